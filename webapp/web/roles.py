"""Roles in the console (SPEC §17): the list, a role's page (its permissions as a checklist that says what
each allows, and who holds it), a new role, deleting one nobody holds; the Roles card of Manage user.

Reading needs `roles.manage` or `users.view`; every change needs `roles.manage` (the service adds the
guard rails: nobody hands out what they lack, nobody acts on a stronger administrator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, request, url_for

from ..i18n import gettext, not_done, translate
from ..sso import SSOError
from ..sso.kernel.attributes import ROLE_DESCRIPTION_MAX, ROLE_NAME_MAX
from ..sso.kernel.errors import Kind
from ..sso.kernel.permissions import PERMISSIONS, ROLES_MANAGE, USERS_VIEW
from ..sso.kernel.presentation import UserData
from .auth import may, permission_required, service
from .blueprint import bp
from .refusals import form_errors, general_errors
from .responses import ViewResponse, error_page, go, page, refusal

ROLE_FIELDS = ("name", "description", "permissions")


@dataclass(frozen=True)
class PermissionBox:
    """One box of the permission checklist."""

    name: str
    meaning: str
    checked: bool
    held_by_reader: bool  # a box for a permission the reader lacks cannot be ticked (nobody hands it out)

    @property
    def input_id(self) -> str:
        return "perm-" + self.name.replace(".", "-")


def checklist(chosen: set[str] | frozenset[str]) -> list[PermissionBox]:
    """Every permission in the fixed order, ticked where `chosen`."""
    return [PermissionBox(name, meaning, name in chosen, may(name)) for name, meaning in PERMISSIONS.items()]


def role_choices(user: UserData) -> list[dict[str, Any]]:
    """The Roles card of Manage user: every role, whether `user` holds it, and whether the reader may
    grant or revoke it (they hold all it carries)."""
    held = set(user.role_names)
    listed = service().list_roles()
    return [
        {**role, "held": role["name"] in held, "grantable": all(may(permission) for permission in role["permissions"])}
        for role in listed
        if role["name"] in held or may(ROLES_MANAGE)
    ]


@bp.get("/roles")
@permission_required(ROLES_MANAGE, USERS_VIEW)
def role_list() -> ViewResponse:
    """Roles: name, what they are for, how many permissions and holders."""
    try:
        roles = service().list_roles()
    except SSOError as error:
        return refusal(error)
    return page("roles/list.html", roles=roles, can_manage=may(ROLES_MANAGE))


def _edit_page(role: dict[str, Any] | None, chosen, errors: dict[str, str], status: int = 200, **sent) -> ViewResponse:
    return page(
        "roles/edit.html",
        status,
        role=role,
        boxes=checklist(chosen),
        errors=errors,
        general_errors=general_errors(errors, ROLE_FIELDS),
        can_manage=may(ROLES_MANAGE),
        name_max=ROLE_NAME_MAX,
        description_max=ROLE_DESCRIPTION_MAX,
        sent=sent,
    )


@bp.route("/roles/new", methods=["GET", "POST"])
@permission_required(ROLES_MANAGE)
def role_create() -> ViewResponse:
    """A new role: a name, what it is for, and its permissions."""
    if request.method == "GET":
        return _edit_page(None, set(), {})
    data = {
        "name": request.form.get("name", ""),
        "description": request.form.get("description", ""),
        "permissions": request.form.getlist("permissions"),
    }
    try:
        role = service().create_role(data)
    except SSOError as error:
        errors = form_errors(error, ROLE_FIELDS)
        if errors is None or error.kind == Kind.forbidden:  # e.g. a crafted box for a permission they lack
            return _not_allowed(error)
        return _edit_page(None, set(data["permissions"]), errors, 422, **data)
    flash(gettext("Created role %(name)s.", name=role["name"]), "success")
    return go(url_for("web.role_edit", name=role["name"]))


@bp.get("/roles/<name>")
@permission_required(ROLES_MANAGE, USERS_VIEW)
def role_edit(name: str) -> ViewResponse:
    """One role: its permissions (a checklist for those who manage roles, a list for the others) and holders."""
    try:
        role = service().get_role(name)
    except SSOError as error:
        return _no_such_role() if error.kind == Kind.not_found else refusal(error)
    return _edit_page(role, set(role["permissions"]), {})


def _not_allowed(error: SSOError) -> ViewResponse:
    """The 403 page saying why (a guard rail's message), or the service's refusal as it maps."""
    if error.kind == Kind.forbidden and error.errors:
        return error_page(
            403,
            gettext("Not allowed"),
            gettext(
                "Nothing was saved: %(reasons)s.", reasons="; ".join(translate(m) or "" for m in error.errors.values())
            ),
        )
    return refusal(error)


def _no_such_role() -> ViewResponse:
    return error_page(
        404, gettext("No such role"), gettext("There is no role with this name. It may have been deleted.")
    )


@bp.post("/roles/<name>")
@permission_required(ROLES_MANAGE)
def role_save(name: str) -> ViewResponse:
    """Save a role's description and permissions."""
    data = {"description": request.form.get("description", ""), "permissions": request.form.getlist("permissions")}
    try:
        role = service().update_role(name, data)
    except SSOError as error:
        errors = form_errors(error, ROLE_FIELDS)
        if error.kind == Kind.not_found:
            return _no_such_role()
        if errors is None or error.kind == Kind.forbidden:
            return _not_allowed(error)
        try:
            role = service().get_role(name)
        except SSOError as again:
            return refusal(again)
        return _edit_page(role, set(data["permissions"]), errors, 422, description=data["description"])
    flash(gettext("Saved role %(name)s.", name=role["name"]), "success")
    return go(url_for("web.role_edit", name=name))


@bp.post("/roles/<name>/delete")
@permission_required(ROLES_MANAGE)
def role_delete(name: str) -> ViewResponse:
    """Delete a role nobody holds (while held, the page says who holds it)."""
    if request.form.get("confirm") != "yes":
        flash(gettext("Not deleted: tick the box to confirm."), "error")
        return go(url_for("web.role_edit", name=name))
    try:
        service().delete_role(name)
    except SSOError as error:
        if error.kind == Kind.not_found:
            return _no_such_role()
        if error.errors.get("name"):
            flash(gettext("Not deleted: %(reason)s.", reason=translate(error.errors["name"])), "error")
            return go(url_for("web.role_edit", name=name))
        return refusal(error)
    flash(gettext("Deleted role %(name)s.", name=name), "success")
    return go(url_for("web.role_list"))


@bp.post("/users/<user_id>/roles")
@permission_required(ROLES_MANAGE)
def user_roles_change(user_id: str) -> ViewResponse:
    """Grant (`grant`: a role's name) or revoke (`revoke`) one role of a user, from Manage user's Roles card."""
    grant, revoke = request.form.get("grant", ""), request.form.get("revoke", "")
    if bool(grant) == bool(revoke):
        return error_page(400, gettext("Choose one role"), gettext("Choose one role to grant or to revoke."))
    try:
        if grant:
            service().grant_role(user_id, grant)
        else:
            service().revoke_role(user_id, revoke)
    except SSOError as error:
        if error.kind == Kind.forbidden and error.errors and "permission" not in error.errors:
            flash(not_done(error.errors.values()), "error")
            return go(url_for("web.user_edit", user_id=user_id) + "#roles-card")
        if error.kind == Kind.not_found and "role" in error.errors:
            return _no_such_role()
        return refusal(error)
    flash(
        gettext("Granted role %(name)s.", name=grant) if grant else gettext("Revoked role %(name)s.", name=revoke),
        "success",
    )
    return go(url_for("web.user_edit", user_id=user_id) + "#roles-card")
