"""The console's blueprint, shared by the route modules; error answers that belong to it."""
from __future__ import annotations

from flask import Blueprint, Response, flash
from flask_wtf.csrf import CSRFError

from ..sso import Kind, SSOError
from .auth import SESSION_END_MESSAGES, go, to_login
from .pages import error_page

bp = Blueprint("web", __name__)

SESSION_CODES = set(SESSION_END_MESSAGES)


@bp.errorhandler(CSRFError)
def csrf_refused(_error: CSRFError) -> Response:
    """A form without a valid CSRF token: refused, nothing written."""
    return error_page(400, "Form not accepted",
                      "This form's security token was missing, wrong or too old, so nothing was saved. "
                      "Reload the page and try again.")


@bp.errorhandler(404)
def not_found(_error) -> Response:
    return error_page(404, "Not found", "There is nothing at this address.")


def refusal(error: SSOError) -> Response:
    """Answer a service refusal that is not about a form's values."""
    code = error.sub_status[0] if error.sub_status else ""
    if error.kind == Kind.unauthenticated or (not error.errors and code in SESSION_CODES):
        return to_login(error)
    if error.kind == Kind.not_found:
        return error_page(404, "No such user", "There is no user with this id. They may have been removed.")
    if error.kind == Kind.forbidden:
        return error_page(403, "Not allowed", "You may not do this.")
    messages = "; ".join(f"{name}: {text}" for name, text in error.errors.items()) or code
    return error_page(422, "Not saved", f"The service refused this request ({messages}).")


def flash_saved(labels: list[str], merged_with: list[str], location: str, nothing: str) -> Response:
    """Report a save and move on (303, or HX-Location for htmx)."""
    if labels:
        message = "Saved: " + ", ".join(labels) + "."
        if merged_with:
            message += " Someone else changed " + ", ".join(merged_with) + " meanwhile; their changes were kept."
        flash(message, "success")
    else:
        flash(nothing, "info")
    return go(location)

