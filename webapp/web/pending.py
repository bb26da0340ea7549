"""The forced password change at login: the first step, sealed, travels in the form.

The username and password that were right must come back with the new password. They travel sealed
(Fernet, key derived from SECRET_KEY, 10 minutes) in a hidden field, never in a readable cookie.
"""
from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PENDING_TTL = 600         # seconds to choose a new password after a login that requires one


def _pending_fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"sso-console pending password change").derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal_pending(username: str, password: str) -> str:
    """A sealed token carrying the first login step."""
    return _pending_fernet().encrypt(json.dumps({"u": username, "p": password}).encode()).decode()


def open_pending(token: str | None) -> tuple[str, str] | None:
    """(username, password) from a sealed token, or None when it is not ours or too old."""
    if not token:
        return None
    try:
        data = json.loads(_pending_fernet().decrypt(token.encode(), ttl=PENDING_TTL))
        return str(data["u"]), str(data["p"])
    except (InvalidToken, ValueError, KeyError, TypeError, UnicodeEncodeError):
        return None
