"""Ed25519 verification of incoming interactions.

Discord signs every interaction POST: ``X-Signature-Ed25519`` is the hex signature of
``timestamp + raw_body`` (the exact bytes received, before any JSON parsing) made with the
application's private key, and ``X-Signature-Timestamp`` is the timestamp (Unix seconds).
The endpoint must answer 401 to anything that does not verify; Discord sends bad signatures
on purpose to check. A valid signature on an old timestamp is rejected too, so a captured
request cannot be replayed later (default: older than 5 minutes, or that far in the
future).

Pure functions over bytes and an injected clock: the aiohttp endpoint calls them and maps
``False`` to 401. Malformed input (bad hex, wrong lengths) is a failed verification, never
an exception.
"""

from __future__ import annotations

import math

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from bot.clock import Clock

__all__ = ["DEFAULT_MAX_AGE", "is_fresh", "verify", "verify_request"]

DEFAULT_MAX_AGE = 300.0


def verify(public_key_hex: str, signature_hex: str, timestamp: str, raw_body: bytes) -> bool:
    """True iff ``signature_hex`` signs ``timestamp + raw_body`` under ``public_key_hex``."""
    try:
        key = VerifyKey(bytes.fromhex(public_key_hex))
        signature = bytes.fromhex(signature_hex)
    except (ValueError, TypeError, CryptoError):
        return False
    if len(signature) != 64:
        return False
    try:
        key.verify(timestamp.encode() + raw_body, signature)
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True


def is_fresh(timestamp: str, clock: Clock, *, max_age: float = DEFAULT_MAX_AGE) -> bool:
    """True iff the timestamp (Unix seconds) is within ``max_age`` of the clock's wall time."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if not math.isfinite(sent):
        return False
    return abs(clock.wall() - sent) <= max_age


def verify_request(
    public_key_hex: str,
    signature_hex: str | None,
    timestamp: str | None,
    raw_body: bytes,
    clock: Clock,
    *,
    max_age: float = DEFAULT_MAX_AGE,
) -> bool:
    """Both checks, for an endpoint: headers present, fresh, and signed."""
    if not signature_hex or not timestamp:
        return False
    return is_fresh(timestamp, clock, max_age=max_age) and verify(
        public_key_hex, signature_hex, timestamp, raw_body
    )
