"""Password hashing: scrypt from `cryptography`, the parameters stored beside each hash."""
from __future__ import annotations

import base64
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
    """Whether `password` matches the stored hash (False for no hash or a malformed one)."""
    if not stored or not isinstance(password, str):
        return False
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = Scrypt(salt=base64.b64decode(salt), length=KEY_LENGTH, n=int(n), r=int(r), p=int(p)).derive(
            password.encode("utf-8", "surrogatepass"))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, base64.b64decode(expected))
