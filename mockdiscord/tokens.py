"""Token shapes that real clients and proxies parse.

- A bot token is `base64(bot_user_id).<timestamp-ish>.<hmac-ish>`. hikari's gateway bot
  decodes the bot id from the first segment (standard base64, padding optional), so the mock
  must mint tokens whose first segment really is the bot user id.
- An interaction token is the URL-safe base64 of `interaction:<interaction_id>:<random>`,
  at least 64 characters. Proxies such as nirn-proxy recognise interaction webhooks by that
  prefix, so the shape matters. It travels in URL paths, hence URL-safe and unpadded.

Randomness comes from a `random.Random` handed in by the caller, so `--seed` makes a
session's credentials reproducible. These are a mock's credentials, not secrets.
"""

from __future__ import annotations

import base64
import binascii
import random
import string

from mockdiscord.snowflake import is_snowflake

__all__ = [
    "bot_id_from_token",
    "interaction_id_from_token",
    "make_bot_token",
    "make_interaction_token",
]

_ALPHABET = string.ascii_letters + string.digits + "-_"
_INTERACTION_PREFIX = "interaction:"


def _random_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(length))


def make_bot_token(bot_user_id: str, rng: random.Random) -> str:
    head = base64.b64encode(bot_user_id.encode("ascii")).decode("ascii").rstrip("=")
    return f"{head}.{_random_text(rng, 6)}.{_random_text(rng, 38)}"


def bot_id_from_token(token: str) -> str | None:
    """The bot user id a token's first segment encodes, or None if it encodes none."""
    head, dot, _rest = token.partition(".")
    if not dot or not head:
        return None
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    text = decoded.decode("ascii", errors="replace")
    return text if is_snowflake(text) and 17 <= len(text) <= 20 else None


def make_interaction_token(interaction_id: str, rng: random.Random) -> str:
    raw = f"{_INTERACTION_PREFIX}{interaction_id}:{_random_text(rng, 96)}"
    return base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")


def interaction_id_from_token(token: str) -> str | None:
    """The interaction id inside an interaction token, or None if it is not one."""
    if not token or len(token) > 4096:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("ascii", errors="replace")
    if not text.startswith(_INTERACTION_PREFIX):
        return None
    interaction_id, sep, _random = text[len(_INTERACTION_PREFIX) :].partition(":")
    return interaction_id if sep and is_snowflake(interaction_id) else None
