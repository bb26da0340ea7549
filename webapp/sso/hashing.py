"""Password hashing: scrypt from `cryptography`, the parameters stored beside each hash."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LENGTH = 2**14, 8, 1, 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str, n: int = SCRYPT_N) -> str:
    """`scrypt$n$r$p$salt$hash`: a per-user salt and the parameters stored beside the hash.

    `n` is the cost (the `SSO_SCRYPT_N` setting; tests lower it, except the tests of hashing)."""
    salt = os.urandom(16)
    derived = Scrypt(salt=salt, length=KEY_LENGTH, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(password.encode())
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(derived)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash (False for no hash or a malformed one).

    Besides our scrypt, a hash imported from Zato (passlib's PBKDF2-SHA512) is verified too."""
    if not stored or not isinstance(password, str):
        return False
    if stored.startswith(PBKDF2_PREFIX):
        return verify_pbkdf2_sha512(password, stored)
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = Scrypt(salt=base64.b64decode(salt), length=KEY_LENGTH, n=int(n), r=int(r), p=int(p)).derive(
            password.encode("utf-8", "surrogatepass"))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, base64.b64decode(expected))


# --- hashes imported from Zato (SPEC §15): verified once, then replaced by scrypt at login ---------------------

PBKDF2_PREFIX = "$pbkdf2-sha512$"


def _ab64_decode(text: str) -> bytes:
    """passlib's "adapted base64": standard base64 with `.` for `+` and no padding."""
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def verify_pbkdf2_sha512(password: str, stored: str) -> bool:
    """Check `password` against `$pbkdf2-sha512$ROUNDS$SALT$HASH` (passlib's format) with hashlib."""
    try:
        _, _, rounds, salt, expected = stored.split("$")
        if not rounds.isdigit() or not 1 <= int(rounds) <= 10_000_000:
            return False
        checksum = _ab64_decode(expected)
        derived = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8", "surrogatepass"), _ab64_decode(salt),
                                      int(rounds), len(checksum))
    except (ValueError, TypeError):
        return False
    return len(checksum) >= 32 and hmac.compare_digest(derived, checksum)


def needs_rehash(stored: str | None) -> bool:
    """Whether a stored hash is not our scrypt (an imported one), to be replaced after a right password."""
    return bool(stored) and stored.startswith(PBKDF2_PREFIX)
