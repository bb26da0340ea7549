"""The password hash itself, at the real default cost (the rest of the suite runs at a lower one)."""

from __future__ import annotations

from webapp.sso.kernel.hashing import SCRYPT_N, hash_password, verify_password


def test_a_hash_at_the_default_cost_verifies_and_records_its_parameters():
    stored = hash_password("Correct-Horse-9")
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, 8, 1)
    assert verify_password("Correct-Horse-9", stored)
    assert not verify_password("correct-horse-9", stored)


def test_two_hashes_of_one_password_differ_by_their_salt():
    assert hash_password("Correct-Horse-9", 2**10) != hash_password("Correct-Horse-9", 2**10)


def test_a_hash_made_at_another_cost_still_verifies_with_its_stored_parameters():
    assert verify_password("Correct-Horse-9", hash_password("Correct-Horse-9", 2**10))


def test_a_malformed_or_foreign_hash_never_verifies():
    for stored in (None, "", "scrypt$x", "pbkdf2$1$2$3$4$5", "scrypt$16384$8$1$!!$!!"):
        assert not verify_password("Correct-Horse-9", stored)
