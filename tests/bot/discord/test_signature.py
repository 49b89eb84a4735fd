"""Ed25519 verification of incoming interactions."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from bot.clock import ManualClock
from bot.discord.signature import is_fresh, verify, verify_request

KEY = SigningKey(bytes(range(32)))
PUBLIC = KEY.verify_key.encode().hex()
BODY = b'{"type":1,"id":"123"}'


def sign(timestamp: str, body: bytes, key: SigningKey = KEY) -> str:
    return key.sign(timestamp.encode() + body).signature.hex()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall_start=1_700_000_000.0)


def test_good_signature_verifies(clock: ManualClock) -> None:
    ts = "1700000000"
    assert verify(PUBLIC, sign(ts, BODY), ts, BODY)
    assert verify_request(PUBLIC, sign(ts, BODY), ts, BODY, clock)


def test_signature_by_another_key_fails() -> None:
    other = SigningKey(bytes(32))
    assert not verify(PUBLIC, sign("1700000000", BODY, other), "1700000000", BODY)


def test_tampered_body_or_timestamp_fails() -> None:
    signature = sign("1700000000", BODY)
    assert not verify(PUBLIC, signature, "1700000000", BODY.replace(b"1", b"4"))
    assert not verify(PUBLIC, signature, "1700000001", BODY)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        ("zz" * 32, None),  # public key not hex
        ("ab" * 31, None),  # public key too short
        (PUBLIC, "zz" * 64),  # signature not hex
        (PUBLIC, "ab" * 63),  # signature too short
        (PUBLIC, ""),
    ],
)
def test_malformed_hex_fails_without_raising(public: str, signature: str | None) -> None:
    good = sign("1700000000", BODY)
    assert not verify(public, good if signature is None else signature, "1700000000", BODY)


def test_stale_or_future_timestamps_are_rejected(clock: ManualClock) -> None:
    now = 1_700_000_000
    assert is_fresh(str(now - 299), clock)
    assert not is_fresh(str(now - 301), clock)
    assert not is_fresh(str(now + 301), clock)
    assert not is_fresh("yesterday", clock)
    assert not is_fresh("nan", clock)
    assert is_fresh(str(now - 50), clock, max_age=60)
    assert not is_fresh(str(now - 61), clock, max_age=60)
    stale = str(now - 600)
    assert not verify_request(PUBLIC, sign(stale, BODY), stale, BODY, clock)


def test_missing_headers_fail(clock: ManualClock) -> None:
    assert not verify_request(PUBLIC, None, "1700000000", BODY, clock)
    assert not verify_request(PUBLIC, sign("1700000000", BODY), None, BODY, clock)
