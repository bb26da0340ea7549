"""Who is using the console: the UST cookie, the caller of this request, renewal, role checks."""
from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Response, current_app, flash, g, redirect, request, session, url_for

from ..sso import Code, SSOError
from ..sso.users import Users
from .security import cookie_secure

UST_COOKIE = "sso_ust"
RENEW_EVERY = 60          # seconds: renew the SSO session at most once a minute while the person is active
RENEWED_KEY = "ust_renewed"
PENDING_TTL = 600         # seconds to choose a new password after a login that requires one

SESSION_END_MESSAGES = {
    Code.session_invalid: "Your session has ended. Please log in again.",
    Code.user_locked: "Your account is locked. Ask an administrator to unlock it.",
    Code.sign_up_not_final: "Your sign-up is not complete yet.",
    Code.auth_invalid: "Your password has expired. Log in to choose a new one.",
    Code.app_not_allowed: "This console is not configured as an SSO application (SSO_CONSOLE_APP).",
}


def users() -> Users:
    """The SSO `user` facade of this app."""
    return current_app.extensions["sso"].user


def cid() -> str:
    """A correlation id for this request's service calls."""
    if "cid" not in g:
        g.cid = uuid.uuid4().hex
    return g.cid


def console_app() -> str:
    """The `current_app` the console calls the SSO services as."""
    return current_app.config["SSO_CONSOLE_APP"]


def user_agent() -> str | None:
    """The browser's User-Agent, for the audit log."""
    return request.headers.get("User-Agent") or None


def caller_args() -> tuple[str, str, str | None]:
    """(current_ust, current_app, remote_addr) for a service call on behalf of this request's caller."""
    return g.ust, console_app(), request.remote_addr


def is_htmx() -> bool:
    """Whether htmx sent this request."""
    return request.headers.get("HX-Request") == "true"


def wants_partial() -> bool:
    """htmx asked for a part of the page (not a whole-body swap such as HX-Location or history)."""
    return is_htmx() and request.headers.get("HX-Request-Type", "partial") == "partial" \
        and "HX-History-Restore-Request" not in request.headers


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (never another host), else None."""
    if not target or "\\" in target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def go(location: str, status: int = 303) -> Response:
    """Send the browser on: a 303 redirect, or for htmx a 200 with HX-Location (no full reload)."""
    if is_htmx():
        response = current_app.response_class(status=200)
        response.headers["HX-Location"] = location
        return response
    return redirect(location, status)


def set_ust_cookie(response: Response, ust: str) -> None:
    """Keep the UST in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS); it ends with the browser."""
    response.set_cookie(UST_COOKIE, ust, httponly=True, samesite="Lax", secure=cookie_secure(current_app),
                        path="/")


def clear_ust_cookie(response: Response) -> None:
    """Forget the UST in this browser."""
    response.delete_cookie(UST_COOKIE, path="/", httponly=True, samesite="Lax", secure=cookie_secure(current_app))


def to_login(error: SSOError | None = None) -> Response:
    """Send the person to the login page (with why, when a session ended), forgetting a dead UST."""
    if error is not None:
        code = error.sub_status[0] if error.sub_status else Code.session_invalid
        flash(SESSION_END_MESSAGES.get(code, SESSION_END_MESSAGES[Code.session_invalid]), "error")
    target = url_for("web.login", next=request.full_path.rstrip("?")) if request.method == "GET" \
        else url_for("web.login")
    if is_htmx():
        response = current_app.response_class(status=200)
        response.headers["HX-Redirect"] = target
    else:
        response = redirect(target, 303)
    if UST_COOKIE in request.cookies:
        clear_ust_cookie(response)
    return response


def load_caller() -> Response | None:
    """Find this request's caller from the UST cookie (renewing the session when due), or refuse."""
    ust = request.cookies.get(UST_COOKIE)
    if not ust:
        return to_login()
    try:
        user = users().get_current_user(cid(), ust, console_app(), request.remote_addr)
        now = int(time.time())
        if now - session.get(RENEWED_KEY, 0) >= RENEW_EVERY:
            users().renew(cid(), ust, console_app(), request.remote_addr)
            session[RENEWED_KEY] = now
    except SSOError as error:
        return to_login(error)
    g.ust, g.user = ust, user
    g.is_super_user = user.get("is_super_user") is True
    return None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only for a logged-in person."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        refusal = load_caller()
        return refusal if refusal is not None else view(*args, **kwargs)
    return wrapped


def super_user_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only for a logged-in super-user; anyone else gets 403."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        refusal = load_caller()
        if refusal is not None:
            return refusal
        if not g.is_super_user:
            from .pages import error_page
            return error_page(403, "Not allowed", "Only super-users can manage users.")
        return view(*args, **kwargs)
    return wrapped


def start_session(ust: str, location: str) -> Response:
    """After a login: a fresh Flask session (new CSRF secret), the UST cookie, and on to `location`."""
    messages = session.get("_flashes")
    session.clear()
    if messages:
        session["_flashes"] = messages
    session[RENEWED_KEY] = int(time.time())
    response = redirect(location, 303)
    set_ust_cookie(response, ust)
    return response


# --- the forced password change at login -------------------------------------------------------------------
# The username and password that were right must come back with the new password. They travel sealed
# (Fernet, key derived from SECRET_KEY, 10 minutes) in the form, never in a readable cookie.


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
