"""Ed25519 signing of the interactions the mock delivers to a bot.

Discord signs every request it sends to a bot's Interactions Endpoint URL so that the bot can
tell Discord from anyone else on the internet. The scheme is small:

- the signed message is the ASCII timestamp immediately followed by the raw request body
  (bytes, exactly as sent: a bot that re-serialises the JSON before checking will fail);
- `X-Signature-Ed25519` carries the 64-byte signature as lowercase hex;
- `X-Signature-Timestamp` carries the timestamp (Unix seconds, as a decimal string).

The bot verifies with the application's public key (hex, as shown in the developer portal
and in `GET /_mock/applications`) and must answer 401 when the check fails. Discord sends
badly signed requests on purpose to make sure it does; `bad_signature_headers` builds one.

Each application owns one `InteractionSigner`. The private key never leaves the mock.
"""

from __future__ import annotations

from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "InteractionSigner",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"


@dataclass(frozen=True, slots=True)
class InteractionSigner:
    """Signs interaction requests with one application's Ed25519 private key."""

    signing_key: SigningKey

    @classmethod
    def generate(cls) -> InteractionSigner:
        """A fresh random key pair."""
        return cls(SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> InteractionSigner:
        """A deterministic key pair from a 32-byte seed (reproducible test setups)."""
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is exactly 32 bytes")
        return cls(SigningKey(seed))

    @property
    def public_key_hex(self) -> str:
        """The public key as 64 lowercase hex characters, the form bots are configured with."""
        return bytes(self.signing_key.verify_key).hex()

    def signature(self, timestamp: str, body: bytes) -> str:
        """The hex signature of `timestamp + body`."""
        return self.signing_key.sign(timestamp.encode("ascii") + body).signature.hex()

    def headers(self, timestamp: str, body: bytes) -> dict[str, str]:
        """The two signature headers for a correctly signed request."""
        return {
            SIGNATURE_HEADER: self.signature(timestamp, body),
            TIMESTAMP_HEADER: timestamp,
        }

    def bad_signature_headers(self, timestamp: str, body: bytes) -> dict[str, str]:
        """Well-formed headers whose signature does not match the body.

        The signature is a real one over a different message, so a bot cannot reject it
        for its shape: only an actual verification catches it.
        """
        wrong = self.signing_key.sign(b"not-" + timestamp.encode("ascii") + body).signature
        return {SIGNATURE_HEADER: wrong.hex(), TIMESTAMP_HEADER: timestamp}


def verify_signature(public_key_hex: str, signature_hex: str, timestamp: str, body: bytes) -> bool:
    """True when `signature_hex` is a valid signature of `timestamp + body` by that key."""
    try:
        key = VerifyKey(bytes.fromhex(public_key_hex))
        key.verify(timestamp.encode("ascii") + body, bytes.fromhex(signature_hex))
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True
