"""Password hashing: scrypt from `cryptography`, the parameters stored beside each hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# OWASP's minimum for scrypt (N=2^17, r=8, p=1): 128 MiB and about 0.3 s per hash on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LENGTH = 2**17, 8, 1, 32


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
            password.encode("utf-8", "surrogatepass")
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, base64.b64decode(expected))


def parameters(stored: str | None) -> tuple[int, int, int] | None:
    """(n, r, p) of a stored scrypt hash, or None when it is not one."""
    try:
        scheme, n, r, p, _salt, _hash = (stored or "").split("$")
        return (int(n), int(r), int(p)) if scheme == "scrypt" else None
    except ValueError:
        return None


def needs_rehash(stored: str | None, n: int) -> bool:
    """Whether a stored hash was made with weaker parameters than the configured cost `n`."""
    if is_imported(stored):  # a Zato hash, verified once: scrypt from now on
        return True
    found = parameters(stored)
    return found is not None and (found[0] < n or found[1] < SCRYPT_R or found[2] < SCRYPT_P)


def describe(stored: str | None) -> str | None:
    """The parameters of a hash as the audit shows them (never the hash): `scrypt N=131072 r=8 p=1`."""
    if is_imported(stored):
        return "pbkdf2-sha512 (imported from Zato)"
    found = parameters(stored)
    return None if found is None else "scrypt N={} r={} p={}".format(*found)


def rehash_changes(ctx, password: str, stored: str | None) -> tuple[dict, dict] | None:
    """At a successful login: the new `password_hash` column and its audit change when the stored hash
    was made with weaker parameters than `SSO_SCRYPT_N`, else None."""
    n = ctx.settings["SSO_SCRYPT_N"]
    if not needs_rehash(stored, n):
        return None
    upgraded = hash_password(password, n)
    return {"password_hash": upgraded}, {"password_hash": {"old": describe(stored), "new": describe(upgraded)}}


# --- hashes imported from Zato (SPEC §15): verified once, then replaced by scrypt at login ---------------------

PBKDF2_PREFIX = "$pbkdf2-sha512$"


def _ab64_decode(text: str) -> bytes:
    """passlib's "adapted base64": standard base64 with `.` for `+` and no padding."""
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


PBKDF2_ROUNDS_MAX = 10_000_000


def _pbkdf2_parts(stored: str) -> tuple[int, bytes, bytes]:
    """(rounds, salt, checksum) of `$pbkdf2-sha512$ROUNDS$SALT$HASH` (passlib's format); ValueError naming
    what is wrong otherwise."""
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 5 or parts[0] != "" or parts[1] != "pbkdf2-sha512":
        raise ValueError("it is not $pbkdf2-sha512$ROUNDS$SALT$HASH")
    _, _, rounds, salt, expected = parts
    if not rounds.isdigit() or not 1 <= int(rounds) <= PBKDF2_ROUNDS_MAX:
        raise ValueError(f"its rounds are not a whole number from 1 to {PBKDF2_ROUNDS_MAX}")
    try:
        salt_bytes, checksum = _ab64_decode(salt), _ab64_decode(expected)
    except (ValueError, TypeError):
        raise ValueError("its salt or hash is not passlib's base64") from None
    if not salt_bytes or len(checksum) < 32:
        raise ValueError("its salt is empty or its hash shorter than 32 bytes")
    return int(rounds), salt_bytes, checksum


def pbkdf2_problem(stored: str) -> str | None:
    """Why a Zato hash could never be verified (then it is no usable password), or None."""
    try:
        _pbkdf2_parts(stored)
    except ValueError as e:
        return str(e)
    return None


def verify_pbkdf2_sha512(password: str, stored: str) -> bool:
    """Check `password` against `$pbkdf2-sha512$ROUNDS$SALT$HASH` (passlib's format) with hashlib."""
    try:
        rounds, salt, checksum = _pbkdf2_parts(stored)
        derived = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8", "surrogatepass"), salt, rounds, len(checksum))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, checksum)


def is_imported(stored: str | None) -> bool:
    """Whether a stored hash is not our scrypt but one imported from Zato (replaced at the next login)."""
    return stored is not None and stored.startswith(PBKDF2_PREFIX)


_dummy_hashes: dict[int, str] = {}


def dummy_hash(n: int) -> str:
    """A hash at cost `n` to verify against when there is no account (a user, an API client): a missing one
    costs one scrypt like a wrong secret, so the timing tells nothing."""
    if n not in _dummy_hashes:
        _dummy_hashes[n] = hash_password("not a real password, only for timing", n)
    return _dummy_hashes[n]
