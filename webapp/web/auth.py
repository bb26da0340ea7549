"""Who is using the console: the UST cookie, the caller of this request, renewal, role checks.

A refusal here is raised, never rendered: `NotSignedIn` (from `refusals.py`) and 403 are answered by the
blueprint's error handlers (`blueprint.py`), so this module needs nothing from `responses.py`; the cookie
itself is `session_cookie.py`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from ..i18n import PICKED_KEY, lazy_gettext
from ..sso import Call, Service, SSOError
from .refusals import ActionsPending, NotSignedIn
from .session_cookie import UST_COOKIE, set_ust_cookie
from .steps import STEPS, allowed

RENEW_EVERY = 60  # seconds: renew the SSO session at most once a minute while the person is active
RENEWED_KEY = "ust_renewed"
NOT_PERMITTED = lazy_gettext("Your roles do not allow this. Ask an administrator if you need it.")


def service(ust: str | None = None) -> Service:
    """The service on behalf of this request's caller: the console's `Call` (`ust`, else the cookie's UST
    once the caller is loaded; the browser's address and user agent; channel `web`; one cid a request)."""
    call = Call(
        cid(),
        ust or g.get("ust"),
        console_app(),
        request.remote_addr,
        "web",
        user_agent(),
        completes=g.get("completes") or frozenset(),
    )
    return current_app.extensions["sso"].serve(call)


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


def signed_in() -> bool:
    """Whether this browser's UST cookie names a live session (nothing else is checked or renewed)."""
    ust = request.cookies.get(UST_COOKIE)
    if not ust:
        return False
    try:
        service(ust).get_current_user()
    except SSOError:
        return False
    return True


def load_caller() -> None:
    """Find this request's caller from the UST cookie (renewing the session when due); else NotSignedIn."""
    ust = request.cookies.get(UST_COOKIE)
    if not ust:
        raise NotSignedIn()
    try:
        caller = service(ust)
        user = caller.get_current_user()
        now = int(time.time())
        if now - session.get(RENEWED_KEY, 0) >= RENEW_EVERY:
            caller.renew()
            session[RENEWED_KEY] = now
    except SSOError as error:
        raise NotSignedIn(error) from error
    g.ust, g.user = ust, user
    g.is_super_user = user.get("is_super_user") is True
    g.permissions = user.permissions
    pending = user.get("required_actions") or []
    completes = allowed(pending, request.endpoint)
    if completes is None:  # SPEC §19: the first required action before anything else
        raise ActionsPending(url_for(STEPS[pending[0]].endpoint))
    # The console keeps the order itself (above), so a page of the current action makes its service calls as
    # one that works on every action: the recovery codes still show once two-factor sign-in is on.
    g.completes = frozenset(STEPS) if pending else frozenset()


def may(*permissions: str) -> bool:
    """Whether this request's caller holds any of `permissions` (SPEC §17; a super-user holds them all).
    Also the templates' `may(...)`: a page offers only what its reader may do."""
    held = g.get("permissions") or frozenset()
    return any(permission in held for permission in permissions)


def require(*permissions: str) -> None:
    """403 unless this request's caller holds one of `permissions`."""
    if not may(*permissions):
        abort(403, description=str(NOT_PERMITTED))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only for a logged-in person."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        load_caller()
        return view(*args, **kwargs)

    return wrapped


def permission_required(*permissions: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only for a logged-in person holding one of `permissions`; anyone else gets the 403 page."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            load_caller()
            require(*permissions)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def start_session(ust: str, location: str) -> Response:
    """After a login: a fresh Flask session (new CSRF secret), the UST cookie, and on to `location`."""
    messages, language = session.get("_flashes"), session.get(PICKED_KEY)
    session.clear()
    if messages:
        session["_flashes"] = messages
    if language:
        session[PICKED_KEY] = language  # the footer picker's choice is this browser's, not the session's
    session[RENEWED_KEY] = int(time.time())
    response = redirect(location, 303)
    set_ust_cookie(response, ust)
    return response
