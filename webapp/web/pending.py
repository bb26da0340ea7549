"""What a later step of a form needs, sealed in the page: the first step of a login (for a forced new
password, or for the two-factor code), and a TOTP key shown for enrolment.

They travel sealed (Fernet, a key derived from SECRET_KEY per purpose, time-limited) in a hidden field,
never in a readable cookie; a token sealed for one purpose never opens as another.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PENDING_TTL = 600  # seconds to choose a new password or type the code after the password was right
PENDING_PURPOSE = "pending password change"


@dataclass(frozen=True)
class Pending:
    """The first step of a login, carried to the next one (with a new password already chosen, if any)."""

    username: str
    password: str
    new_password: str | None = None


def _fernet(purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"sso-console {purpose}".encode()).derive(
        str(current_app.config["SECRET_KEY"]).encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(data: dict[str, Any], purpose: str) -> str:
    """`data` sealed for one purpose."""
    return _fernet(purpose).encrypt(json.dumps(data).encode()).decode()


def unseal(token: str | None, purpose: str, ttl: int) -> dict[str, Any] | None:
    """What `seal` sealed for `purpose`, or None when it is not ours, of another purpose or older than `ttl`."""
    if not token:
        return None
    try:
        data = json.loads(_fernet(purpose).decrypt(token.encode(), ttl=ttl))
    except (InvalidToken, ValueError, TypeError, UnicodeEncodeError):
        return None
    return data if isinstance(data, dict) else None


def seal_pending(username: str, password: str, new_password: str | None = None) -> str:
    """A sealed token carrying the first login step."""
    return seal({"u": username, "p": password, "n": new_password}, PENDING_PURPOSE)


def open_pending(token: str | None) -> Pending | None:
    """The first login step from a sealed token, or None when it is not ours or too old."""
    data = unseal(token, PENDING_PURPOSE, PENDING_TTL)
    if data is None or not isinstance(data.get("u"), str) or not isinstance(data.get("p"), str):
        return None
    new_password = data.get("n")
    return Pending(data["u"], data["p"], new_password if isinstance(new_password, str) else None)
