"""USTs: Fernet tokens (MultiFernet, so keys can rotate) over a random session id; secrets sealed at rest."""

from __future__ import annotations

import hashlib
import secrets

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

OPENED_KEPT = 4096  # USTs whose session hash a codec keeps (a few hundred bytes each)


class TokenCodec:
    """Makes and opens USTs; the first key signs, every key is accepted."""

    def __init__(self, keys: list[str]):
        self._fernet = MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
        # SHA-256 of a UST -> its session hash: a UST opens to the same session id for as long as these keys
        # are the codec's (no TTL is checked), so each is decrypted once, not on every call (issue 30).
        # Keyed by a digest, so no token is kept; only tokens that opened are kept; cleared when full.
        self._opened: dict[bytes, str] = {}

    def new(self) -> tuple[str, str]:
        """A new (ust, session_hash) pair; only the hash is ever stored."""
        session_id = secrets.token_urlsafe(32)
        return self._fernet.encrypt(session_id.encode()).decode(), session_hash(session_id)

    def seal(self, secret: str) -> str:
        """A secret (a TOTP key) encrypted for storage with the first key."""
        return self._fernet.encrypt(secret.encode()).decode()

    def unseal(self, sealed: str | None) -> str | None:
        """A stored secret decrypted with any of the keys; None when absent or not readable with them."""
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError, TypeError):
            return None

    def wrap(self, session_id: str) -> str:
        """A UST for a known session id (each call gives a new token that opens to the same session)."""
        return self._fernet.encrypt(session_id.encode()).decode()

    def open_session_id(self, token: str) -> str | None:
        """The session id inside a UST (or a sealed id stored for a linked credential), or None."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, ValueError, TypeError):
            return None

    def session_hash_of(self, ust: object) -> str | None:
        """The stored hash for a UST, or None when it is not a token we made."""
        if not isinstance(ust, str) or not ust or len(ust) > 4096:
            return None
        try:
            token = ust.encode("ascii")
        except UnicodeEncodeError:
            return None
        key = hashlib.sha256(token).digest()
        found = self._opened.get(key)
        if found is not None:
            return found
        try:
            session_id = self._fernet.decrypt(token)
        except (InvalidToken, ValueError, TypeError):
            return None
        found = session_hash(session_id.decode("ascii", "replace"))
        if len(self._opened) >= OPENED_KEPT:
            self._opened.clear()
        self._opened[key] = found
        return found


def session_hash(session_id: str) -> str:
    """SHA-256 of a session id: a random 256-bit id needs no salt or slow hash."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_totp_key() -> str:
    """A random 160-bit base32 key (32 characters), as authenticator apps expect."""
    return pyotp.random_base32()
