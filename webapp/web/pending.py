"""What a later step of a form needs, sealed in the page: the first step of a login (for a forced new
password, or for the two-factor code), and a TOTP key shown for enrolment.

They travel sealed (Fernet, a key derived from SECRET_KEY per purpose, time-limited) in a hidden field,
never in a readable cookie; a token sealed for one purpose never opens as another.

A login's first step is also bound to the browser that made it and works once (issue 31 #5): it carries
a random value that only this browser's session holds; sealing the next step replaces that value, and a
finished login starts a fresh session without it, so a copied `pending` opens nowhere else and never again.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, session

PENDING_TTL = 600  # seconds to choose a new password or type the code after the password was right
PENDING_PURPOSE = "pending password change"
BROWSER_KEY = "login_step"  # in the Flask session: the value the current first step of a login carries


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
    """A sealed token carrying the first login step, for this browser only; any earlier one stops working."""
    browser = secrets.token_urlsafe(16)
    session[BROWSER_KEY] = browser
    return seal({"u": username, "p": password, "n": new_password, "b": browser}, PENDING_PURPOSE)


def open_pending(token: str | None) -> Pending | None:
    """The first login step from a sealed token, or None when it is not ours, too old, made in another
    browser, or already used (its login finished, or a later step replaced it)."""
    data = unseal(token, PENDING_PURPOSE, PENDING_TTL)
    if data is None or not isinstance(data.get("u"), str) or not isinstance(data.get("p"), str):
        return None
    browser, expected = data.get("b"), session.get(BROWSER_KEY)
    if not isinstance(browser, str) or not isinstance(expected, str):
        return None
    if not hmac.compare_digest(browser.encode(), expected.encode()):
        return None
    new_password = data.get("n")
    return Pending(data["u"], data["p"], new_password if isinstance(new_password, str) else None)


def forget_pending() -> None:
    """The login this browser started is over (done or given up): its first step opens no more."""
    session.pop(BROWSER_KEY, None)
