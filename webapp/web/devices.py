"""My account → Devices (SPEC §9): sign out one of my sessions, or all but this one."""

from __future__ import annotations

from flask import flash, request, url_for

from ..i18n import gettext, ngettext
from ..sso import Kind, SSOError
from .auth import login_required, service
from .blueprint import bp
from .responses import ViewResponse, go, refusal

DEVICES = "#devices-card"
SESSIONS_SHOWN = 20  # a script that logs in on every call can hold hundreds: the page lists the newest


def newest_sessions(sessions: list[dict]) -> tuple[list[dict], int]:
    """The sessions a page lists (the newest `SESSIONS_SHOWN`, always with this one) and how many there are."""
    shown = sessions[:SESSIONS_SHOWN]
    current = next((s for s in sessions[SESSIONS_SHOWN:] if s.get("is_current")), None)
    if current is not None:
        shown = [*shown[:-1], current]
    return shown, len(sessions)


@bp.post("/account/sessions/end")
@login_required
def account_end_session() -> ViewResponse:
    """Sign out one of my other sessions (e.g. a lost phone)."""
    try:
        service().end_session(request.form.get("session_id", ""))
    except SSOError as error:
        if error.kind != Kind.not_found:
            return refusal(error)
        flash(gettext("That session had already ended."), "info")
    else:
        flash(gettext("Signed out that device."), "success")
    return go(url_for("web.account") + DEVICES)


@bp.post("/account/sessions/end-others")
@login_required
def account_end_other_sessions() -> ViewResponse:
    """Sign out everywhere else: every session of mine but this one."""
    try:
        count = service().end_sessions(None)
    except SSOError as error:
        return refusal(error)
    if count:
        flash(ngettext("Signed out %(num)d other session.", "Signed out %(num)d other sessions.", count), "success")
    else:
        flash(gettext("Nothing to do: you are signed in nowhere else."), "info")
    return go(url_for("web.account") + DEVICES)
