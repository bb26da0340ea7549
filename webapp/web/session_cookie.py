"""The console's UST cookie: set after a login, cleared when the session is gone.

Imported by `auth.py` (who is signed in, starting a session) and by `responses.py` (sending someone to the
login page forgets a dead UST); it imports neither."""

from __future__ import annotations

from flask import current_app
from werkzeug.wrappers import Response

from .security import cookie_secure

UST_COOKIE = "sso_ust"


def set_ust_cookie(response: Response, ust: str) -> None:
    """Keep the UST in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS); it ends with the browser."""
    response.set_cookie(UST_COOKIE, ust, httponly=True, samesite="Lax", secure=cookie_secure(current_app), path="/")


def clear_ust_cookie(response: Response) -> None:
    """Forget the UST in this browser."""
    response.delete_cookie(UST_COOKIE, path="/", httponly=True, samesite="Lax", secure=cookie_secure(current_app))
