"""API clients (SPEC §13) and SCIM clients (SPEC §21) for super-users: the lists, and revoking one (after a
confirmation)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from ..i18n import gettext
from ..sso import SSOError
from ..sso.kernel.permissions import USERS_ATTRIBUTES
from .auth import permission_required, service
from .blueprint import bp
from .responses import ViewResponse, error_page, page, refusal


@bp.get("/api-clients")
@permission_required(USERS_ATTRIBUTES)
def api_clients() -> ViewResponse:
    """Every API client and the user it acts as; every SCIM client and its role."""
    try:
        clients = service().api_clients()
        scim_clients = service().scim_clients()
    except SSOError as error:
        return refusal(error)
    return page("api_clients/list.html", clients=clients, scim_clients=scim_clients)


@bp.post("/api-clients/<name>/revoke")
@permission_required(USERS_ATTRIBUTES)
def api_client_revoke(name: str) -> ViewResponse:
    """Revoke one API client; the confirmation box must be ticked."""
    if request.form.get("confirm") != "yes":
        return error_page(422, gettext("Not revoked"), gettext("Tick the confirmation box to revoke an API client."))
    try:
        service().revoke_api_client(name)
    except SSOError as error:
        return refusal(error)
    flash(gettext("API client %(name)s revoked.", name=name), "success")
    return redirect(url_for("web.api_clients"), 303)


@bp.post("/api-clients/scim/<name>/revoke")
@permission_required(USERS_ATTRIBUTES)
def scim_client_revoke(name: str) -> ViewResponse:
    """Revoke one SCIM client (its token stops working at once); the confirmation box must be ticked."""
    if request.form.get("confirm") != "yes":
        return error_page(422, gettext("Not revoked"), gettext("Tick the confirmation box to revoke a SCIM client."))
    try:
        service().revoke_scim_client(name)
    except SSOError as error:
        return refusal(error)
    flash(gettext("SCIM client %(name)s revoked.", name=name), "success")
    return redirect(url_for("web.api_clients"), 303)
