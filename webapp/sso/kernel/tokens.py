"""USTs: Fernet tokens (MultiFernet, so keys can rotate) over a random session id; secrets sealed at rest."""

from __future__ import annotations

import hashlib
import secrets

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenCodec:
    """Makes and opens USTs; the first key signs, every key is accepted."""

    def __init__(self, keys: list[str]):
        self._fernet = MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])

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
            session_id = self._fernet.decrypt(ust.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError, ValueError, TypeError):
            return None
        return session_hash(session_id.decode("ascii", "replace"))


def session_hash(session_id: str) -> str:
    """SHA-256 of a session id: a random 256-bit id needs no salt or slow hash."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_totp_key() -> str:
    """A random 160-bit base32 key (32 characters), as authenticator apps expect."""
    return pyotp.random_base32()
