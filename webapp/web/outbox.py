"""The outbox (issue 27) for super-users (no permission of SPEC §17 covers it; see DECISIONS): how many
messages wait, were sent or failed, the oldest wait, the queued
and failed messages with their last error, and "send again" for a failed one."""

from __future__ import annotations

from flask import flash, redirect, url_for

from ..i18n import gettext
from ..sso import SSOError
from .auth import login_required, service
from .blueprint import bp
from .responses import ViewResponse, page, refusal


@bp.get("/outbox")
@login_required  # the service refuses all but super-users (E005001: the 403 page)
def outbox() -> ViewResponse:
    """The outbox's state and its messages (never a body)."""
    try:
        seen = service().outbox_overview()
    except SSOError as error:
        return refusal(error)
    return page("outbox/list.html", **seen)


@bp.post("/outbox/<int:message>/retry")
@login_required  # the service refuses all but super-users (E005001: the 403 page)
def outbox_retry(message: int) -> ViewResponse:
    """Queue a failed message again."""
    try:
        service().retry_outbox_message(message)
    except SSOError as error:
        return refusal(error)
    flash(gettext("Message %(message)s is queued again.", message=message), "success")
    return redirect(url_for("web.outbox"), 303)
