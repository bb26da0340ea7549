"""How the console answers: htmx detection, redirects, pages, refusal pages and flashes. What a refusal
means (session ended, not found, field errors or a refusal page) is decided in `refusals.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..i18n import gettext, lazy_gettext, ngettext, translate
from ..sso import Code, Kind, SSOError
from .display import attribute_label
from .refusals import ends_session, not_found_words, session_end_message
from .session_cookie import UST_COOKIE, clear_ust_cookie

if TYPE_CHECKING:  # for the annotation only: attribute_form imports refusals, never this module
    from .attribute_form.save import Outcome

NOTHING_SENT = lazy_gettext("Nothing to save: you did not change anything.")
NOTHING_NEW = lazy_gettext("Nothing to save: those values were already stored.")

# What a console view returns: werkzeug's Response, so both `redirect()` (werkzeug's) and
# `current_app.response_class` (Flask's, a subclass) fit. Views annotate with this, never flask.Response.
ViewResponse: TypeAlias = Response


# --- htmx and redirects ------------------------------------------------------------------------------------


def is_htmx() -> bool:
    """Whether htmx sent this request."""
    return request.headers.get("HX-Request") == "true"


def wants_partial() -> bool:
    """htmx asked for a part of the page (not a whole-body swap such as HX-Location or history)."""
    return (
        is_htmx()
        and request.headers.get("HX-Request-Type", "partial") == "partial"
        and "HX-History-Restore-Request" not in request.headers
    )


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (never another host), else None."""
    if not target or "\\" in target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target):  # CR/LF would break the Location header
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def go(location: str, status: int = 303) -> ViewResponse:
    """Send the browser on: a 303 redirect, or for htmx a 200 with HX-Location (no full reload)."""
    if is_htmx():
        response = current_app.response_class(status=200)
        response.headers["HX-Location"] = location
        return response
    return redirect(location, status)


def to_login(error: SSOError | None = None) -> ViewResponse:
    """Send the person to the login page (with why, when a session ended), forgetting a dead UST."""
    if error is not None:
        flash(session_end_message(error), "error")
    target = (
        url_for("web.login", next=request.full_path.rstrip("?")) if request.method == "GET" else url_for("web.login")
    )
    response: ViewResponse
    if is_htmx():
        response = current_app.response_class(status=200)
        response.headers["HX-Redirect"] = target
    else:
        response = redirect(target, 303)
    if UST_COOKIE in request.cookies:
        clear_ust_cookie(response)
    return response


# --- pages -------------------------------------------------------------------------------------------------


def page(template: str, status: int = 200, **context: Any) -> ViewResponse:
    """A rendered template with `status`; personal pages are never stored by caches."""
    response = current_app.response_class(render_template(template, **context), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(status: int, title: str, message: str) -> ViewResponse:
    """An error as a page, or for htmx as an alert swapped into the page's message area."""
    if is_htmx():
        response = page("_alert.html", status, title=title, message=message)
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return page("error.html", status, title=title, message=message, status_code=status)


def refusal(error: SSOError) -> ViewResponse:
    """Answer a service refusal that is not about a form's values."""
    if ends_session(error):
        return to_login(error)
    if Code.actions_required in error.sub_status:  # SPEC §19: set meanwhile; the first action's page leads on
        return go(url_for("web.required_actions"))
    if error.kind == Kind.not_found:
        return error_page(404, *not_found_words(error))
    if error.kind == Kind.forbidden:
        return error_page(403, gettext("Not allowed"), gettext("You may not do this."))
    code = error.sub_status[0] if error.sub_status else ""
    messages = "; ".join(f"{name}: {translate(text)}" for name, text in error.errors.items()) or code
    return error_page(
        422, gettext("Not saved"), gettext("The service refused this request (%(reasons)s).", reasons=messages)
    )


# --- flashes -----------------------------------------------------------------------------------------------


def flash_saved(outcome: Outcome, location: str) -> ViewResponse:
    """Report a successful save (or that there was nothing to save) and move on (303, or HX-Location)."""
    if outcome.saved:
        message = gettext("Saved: %(fields)s.", fields=", ".join(attribute_label(name) for name in outcome.saved))
        if outcome.merged_with:
            message += " " + gettext(
                "Someone else changed %(fields)s meanwhile; their changes were kept.",
                fields=", ".join(attribute_label(name) for name in outcome.merged_with),
            )
        flash(message, "success")
    elif not outcome.retired:
        flash(str(NOTHING_NEW if outcome.sent else NOTHING_SENT), "info")
    if outcome.retired:
        flash(
            ngettext(
                "Not saved: %(fields)s. An administrator retired this field while you were editing.",
                "Not saved: %(fields)s. An administrator retired these fields while you were editing.",
                len(outcome.retired),
                fields=", ".join(outcome.retired),
            ),
            "warning",
        )
    return go(location)
