"""Signing: what a bot verifies must be exactly Discord's scheme (timestamp + raw body)."""

from nacl.signing import VerifyKey

from mockdiscord.interactions import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InteractionSigner,
    verify_signature,
)


def test_signature_verifies_with_plain_pynacl_over_timestamp_plus_body() -> None:
    signer = InteractionSigner.generate()
    body = b'{"type":1}'
    headers = signer.headers("1700000000", body)
    key = VerifyKey(bytes.fromhex(signer.public_key_hex))
    signature = bytes.fromhex(headers[SIGNATURE_HEADER])
    assert key.verify(b"1700000000" + body, signature) == b"1700000000" + body
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert len(headers[SIGNATURE_HEADER]) == 128
    assert len(signer.public_key_hex) == 64


def test_any_change_to_body_or_timestamp_breaks_the_signature() -> None:
    signer = InteractionSigner.generate()
    signature = signer.signature("17", b"{}")
    assert verify_signature(signer.public_key_hex, signature, "17", b"{}")
    assert not verify_signature(signer.public_key_hex, signature, "18", b"{}")
    assert not verify_signature(signer.public_key_hex, signature, "17", b"{ }")
    other = InteractionSigner.generate()
    assert not verify_signature(other.public_key_hex, signature, "17", b"{}")


def test_bad_signature_headers_are_well_formed_but_do_not_verify() -> None:
    signer = InteractionSigner.generate()
    headers = signer.bad_signature_headers("42", b"{}")
    assert len(bytes.fromhex(headers[SIGNATURE_HEADER])) == 64
    assert not verify_signature(signer.public_key_hex, headers[SIGNATURE_HEADER], "42", b"{}")


def test_garbage_signatures_are_refused_not_raised() -> None:
    signer = InteractionSigner.generate()
    assert not verify_signature(signer.public_key_hex, "zz", "1", b"")
    assert not verify_signature("nothex", "00" * 64, "1", b"")


def test_seeded_signers_are_reproducible() -> None:
    seed = bytes(range(32))
    assert InteractionSigner.from_seed(seed).public_key_hex == (
        InteractionSigner.from_seed(seed).public_key_hex
    )
