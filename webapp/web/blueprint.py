"""The console's blueprint, shared by the route modules, and the refusals it answers for all of them."""

from __future__ import annotations

from flask import Blueprint
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException, MethodNotAllowed, NotFound

from ..i18n import gettext
from .refusals import ActionsPending, NotSignedIn
from .responses import ViewResponse, error_page, go, to_login

bp = Blueprint("web", __name__)


@bp.errorhandler(NotSignedIn)
def not_signed_in(error: NotSignedIn) -> ViewResponse:
    """No live session: on to the login page (saying why when the service ended it)."""
    return to_login(error.error)


@bp.errorhandler(ActionsPending)
def actions_pending(error: ActionsPending) -> ViewResponse:
    """Required actions wait (SPEC §19): on to the page of the first one."""
    return go(error.location)


@bp.errorhandler(CSRFError)
def csrf_refused(_error: CSRFError) -> ViewResponse:
    """A form without a valid CSRF token: refused, nothing written."""
    return error_page(
        400,
        gettext("Form not accepted"),
        gettext(
            "This form's security token was missing, wrong or too old, so nothing was saved. "
            "Reload the page and try again."
        ),
    )


@bp.errorhandler(Forbidden)
def forbidden(error: Forbidden) -> ViewResponse:
    """A permission check refused (`auth.require`, `auth.permission_required`)."""
    return error_page(403, gettext("Not allowed"), error.description or gettext("You may not do this."))


@bp.errorhandler(NotFound)
def not_found(_error: NotFound) -> ViewResponse:
    return error_page(404, gettext("Not found"), gettext("There is nothing at this address."))


@bp.errorhandler(MethodNotAllowed)
def method_not_allowed(_error: MethodNotAllowed) -> ViewResponse:
    return error_page(405, gettext("Not allowed here"), gettext("This address does not take that kind of request."))


def unrouted(error: HTTPException) -> ViewResponse:
    """An address no route matched (404) or a method its route does not take (405): the console's page
    (the app-level answer for every prefix no other face claimed, see `http_hardening.claim_unrouted`)."""
    if isinstance(error, MethodNotAllowed):
        return method_not_allowed(error)
    return error_page(404, gettext("Not found"), gettext("There is nothing at this address."))
