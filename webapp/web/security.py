"""CSRF, cookie flags and the headers every response carries."""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# Forms stay usable for a working day; the token is also bound to the browser session.
CSRF_TIME_LIMIT = 8 * 3600
# Messages waiting to be shown: a client that posts without ever reading a page (a script, a replayed
# form) would otherwise grow the session cookie past the 4 KB a browser keeps, losing the session.
MAX_FLASHES = 5


def cookie_secure(app: Flask) -> bool:
    """Cookies are Secure when configured so or when this request came over HTTPS."""
    return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session (flash messages, CSRF secret), Secure whenever HTTPS is used."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        flashes = session.get("_flashes")
        if flashes and len(flashes) > MAX_FLASHES:
            session["_flashes"] = flashes[-MAX_FLASHES:]  # the newest ones
        super().save_session(app, session, response)


def add_security_headers(response: Response) -> Response:
    """CSP, nosniff, referrer and framing policy on every response the app sends."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_security(app: Flask) -> None:
    """CSRFProtect for every form (the JSON API blueprint exempt), cookie flags, response headers."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", CSRF_TIME_LIMIT)
    app.session_interface = ConsoleSessionInterface()
    csrf = app.extensions.get("csrf")
    if not isinstance(csrf, CSRFProtect):
        csrf = CSRFProtect(app)
    for name in ("api", "scim"):
        # The JSON API authenticates with a UST in the body or a Bearer header, SCIM with a client's bearer
        # token: never a cookie.
        face = app.blueprints.get(name)
        if face is not None:
            csrf.exempt(face)
    app.after_request(add_security_headers)
