"""Password hashing (scrypt from `cryptography`) and the password rules of SPEC §5."""
from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .attributes import PASSWORD_MAX, PASSWORD_MIN, text_problem
from .errors import Code

SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LENGTH = 2**14, 8, 1, 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`: a per-user salt and the parameters stored beside the hash."""
    salt = os.urandom(16)
    derived = Scrypt(salt=salt, length=KEY_LENGTH, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(password.encode())
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(derived)}"


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


def password_problem(password: object, reject_list: list[str]) -> tuple[str, str] | None:
    """(code, message) when `password` breaks a rule, else None."""
    if not isinstance(password, str):
        return Code.invalid_input, "must be a string"
    if len(password) < PASSWORD_MIN:
        return Code.password_too_short, f"must be at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return Code.password_too_long, f"must be at most {PASSWORD_MAX} characters"
    problem = text_problem(password)
    if problem:
        return Code.invalid_input, problem
    lowered = password.casefold()
    if any(word.casefold() in lowered for word in reject_list if word):
        return Code.password_rejected_word, "is too easy to guess (it contains a common word)"
    return None
