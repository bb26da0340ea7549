"""Roles over real HTTP (SPEC §17): the table of tests/core/test_roles_table.py sampled through the live
server (every role, a regular user and a stronger administrator as targets), and the role endpoints."""

from __future__ import annotations

import itertools

import pytest

from webapp.sso.kernel.permissions import PERMISSIONS

from ..core.test_roles_table import OPERATIONS, ROLES, expected
from .conftest import APP, unique
from .helpers import ok, refused

# How each operation of the table is called over the wire: (method, path, body for the target).
WIRE = {
    "get_user_by_id": ("GET", "user", lambda t: {"user_id": t}),
    "search": ("GET", "user/search", lambda t: {"username": "x"}),
    "list_sessions": ("GET", "user/session/list", lambda t: {"user_id": t}),
    "edit_email": ("PATCH", "user", lambda t: {"user_id": t, "email": "new@example.com"}),
    "set_must_change": ("PATCH", "user", lambda t: {"user_id": t, "password_must_change": True}),
    "lock": ("POST", "user/lock", lambda t: {"user_id": t}),
    "reject": ("POST", "user/reject", lambda t: {"user_id": t}),
    "delete": ("DELETE", "user", lambda t: {"user_id": t}),
    "set_password": ("PATCH", "user/password", lambda t: {"user_id": t, "new_password": "Another-Horse-7"}),
    "end_sessions": ("DELETE", "user/session", lambda t: {"user_id": t, "all": True}),
    "set_attribute": ("POST", "user/attr", lambda t: {"user_id": t, "name": "colour", "value": "red"}),
    "create_user": ("POST", "user", lambda t: {"username": unique("made")}),
    "grant_role": ("POST", "user/role", lambda t: {"user_id": t, "role": "auditor"}),
}
CASES = [
    (operation, role, kind)
    for operation, role, kind in itertools.product(OPERATIONS, ROLES, ("regular", "stronger"))
    if operation.name in WIRE and (operation.targeted or kind == "regular")
]


@pytest.fixture(scope="module")
def callers(site):
    """A logged-in caller per role, and a stronger administrator shared by the cases that cannot change it."""
    roles = site.sso.user.list_roles("test", site.admin_ust, APP, "127.0.0.1")
    if "everything" not in {role["name"] for role in roles}:
        everything = {"name": "everything", "permissions": list(PERMISSIONS)}
        site.sso.user.create_role("test", everything, site.admin_ust, APP, "127.0.0.1")
    made = {}
    for role in ROLES:
        user, ust = site.new_user(f"caller_{role}", super_user=role == "super-user")
        if role not in ("nobody", "super-user"):
            site.sso.operator.grant_role_local(user["username"], role)
            ust = site.login(user["username"])
        made[role] = (user["user_id"], ust)
    return made


def _target(site, kind: str) -> str:
    user, _ = site.new_user("target")
    if kind == "stronger":
        site.sso.operator.grant_role_local(user["username"], "everything")
    return user["user_id"]


@pytest.mark.parametrize(("operation", "role", "kind"), CASES, ids=[f"{o.name}-{r}-{k}" for o, r, k in CASES])
def test_each_sampled_call_over_http_is_allowed_or_refused_as_the_role_says(site, callers, operation, role, kind):
    target = _target(site, kind)
    method, path, body = WIRE[operation.name]
    answer = site.api.call(method, path, {"current_app": APP, **body(target)}, ust=callers[role][1])
    want = expected(operation, role, kind)
    if want == ("ok", ""):
        ok(answer)
    else:
        refused(answer, 403, want[1])


def test_roles_are_listed_read_created_changed_granted_revoked_and_deleted_over_http(site):
    ust = site.admin_ust
    listed = ok(site.api.call("GET", "role", {"current_app": APP}, ust=ust))["result"]
    assert {"helpdesk", "auditor", "user-admin"} <= {role["name"] for role in listed}
    name = unique("desk").replace("_", "-").lower()
    created = ok(
        site.api.call(
            "POST",
            "role",
            {"current_app": APP, "name": name, "description": "Front desk", "permissions": ["users.view"]},
            ust=ust,
        )
    )
    assert (created["name"], created["permissions"], created["holders"]) == (name, ["users.view"], [])
    changed = ok(
        site.api.call(
            "PATCH", "role", {"current_app": APP, "name": name, "permissions": ["users.view", "users.lock"]}, ust=ust
        )
    )
    assert changed["permissions"] == ["users.view", "users.lock"]
    bob, bob_ust = site.new_user("bob")
    granted = ok(
        site.api.call("POST", "user/role", {"current_app": APP, "user_id": bob["user_id"], "role": name}, ust=ust)
    )
    assert granted["result"] == [name]
    assert ok(site.api.call("GET", "user/role", {"current_app": APP}, ust=bob_ust))["result"] == [name]
    one = ok(site.api.call("GET", "role", params={"current_app": APP, "name": name}, ust=ust))
    assert one["holders"] == [{"user_id": bob["user_id"], "username": bob["username"]}]
    held = refused(site.api.call("DELETE", "role", {"current_app": APP, "name": name}, ust=ust), 403, "E008001")
    assert bob["username"] in held["errors"]["name"]
    revoked = site.api.call(
        "DELETE", "user/role", {"current_app": APP, "user_id": bob["user_id"], "role": name}, ust=ust
    )
    assert ok(revoked)["result"] == []
    ok(site.api.call("DELETE", "role", {"current_app": APP, "name": name}, ust=ust))


def test_bad_role_input_over_http_names_the_field(site):
    ust = site.admin_ust
    body = refused(
        site.api.call("POST", "role", {"current_app": APP, "name": "", "permissions": ["users.fly"]}, ust=ust),
        422,
        "E008002",
    )
    assert set(body["errors"]) == {"name", "permissions"}
    refused(site.api.call("POST", "role", {"current_app": APP, "name": "helpdesk"}, ust=ust), 409, "E008002")
    refused(
        site.api.call("PATCH", "role", {"current_app": APP, "name": "nosuch", "description": "x"}, ust=ust),
        404,
        "E008002",
    )
    missing = refused(
        site.api.call("POST", "user/role", {"current_app": APP, "role": "auditor"}, ust=ust), 400, "E008002"
    )
    assert missing["errors"] == {"user_id": "is required"}
    nobody = refused(
        site.api.call("POST", "user/role", {"current_app": APP, "user_id": "zusrnobody", "role": "auditor"}, ust=ust),
        404,
        "E001100",
    )
    assert nobody["errors"] == {"user_id": "no such user"}
    _, plain = site.new_user("plain")
    refused(site.api.call("GET", "role", {"current_app": APP}, ust=plain), 403, "E005001")
