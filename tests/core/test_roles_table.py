"""Every operation × every shipped role × every kind of target (SPEC §17), through the Python API, on both
databases: allowed, or refused with the exact code and nothing written.

The expectations are written here from the specification, not computed by the service's own tables: each
operation names the permission SPEC §17 gives it and how a caller without it is refused; the shipped
roles are spelled out. One database per module, the callers made once; a target is made for each case."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from webapp import configuration, create_service
from webapp.db import reading
from webapp.sso import Call, SSOError
from webapp.sso.kernel.permissions import PERMISSIONS
from webapp.sso.kernel.tables import audit, sessions, user_attrs, user_roles, users

from ..conftest import PASSWORD, app_config, fresh_database
from .helpers import ADDR, APP, CID

ROLES = {
    "nobody": set(),
    "helpdesk": {"users.view", "users.lock", "users.credentials", "users.sessions"},
    "auditor": {"users.view", "audit.view"},
    "user-admin": {
        "users.view",
        "users.create",
        "users.edit",
        "users.lock",
        "users.approve",
        "users.credentials",
        "users.sessions",
        "users.attributes",
    },
    "super-user": "all",
}
E005001 = ("forbidden", "E005001")
E008001 = ("forbidden", "E008001")
E008002 = ("forbidden", "E008002")
OK = ("ok", "")


@dataclass(frozen=True)
class Operation:
    """One call: the permission it needs, how a caller without it is refused, what acting on oneself gives
    (`as_other`: as on another user; `guard`: E008001 when held, since nobody removes their own access),
    whether it writes, and whether it has a target at all."""

    name: str
    permission: str
    lacking: tuple[str, str]
    call: Callable[[Any, str, str], Any]
    on_self: Any = "as_other"
    writes: bool = True
    writes_on_self: bool = True
    reads_only: bool = False  # reading a stronger account is allowed (the rails are about acting)
    targeted: bool = True
    before: dict | None = None  # set on another target first (as root), so that the call has work to do


def _update(data):
    return lambda sso, ust, target: sso.user.update_user_by_id(CID, target, data, ust, APP, ADDR)


def _lifecycle(method):
    return lambda sso, ust, target: getattr(sso.user, method)(CID, target, ust, APP, ADDR)


OPERATIONS = [
    Operation(
        "get_user_by_id",
        "users.view",
        E005001,
        lambda sso, ust, t: sso.user.get_user_by_id(CID, t, ust, APP, ADDR),
        on_self=OK,
        writes=False,
        reads_only=True,
    ),
    Operation(
        "search",
        "users.view",
        E005001,
        lambda sso, ust, t: sso.user.search(CID, {"username": "x"}, ust, APP, ADDR),
        writes=False,
        targeted=False,
    ),
    Operation(
        "list_sessions",
        "users.view",
        E005001,
        lambda sso, ust, t: sso.user.list_sessions(CID, t, ust, APP, ADDR),
        on_self=OK,
        writes=False,
        reads_only=True,
    ),
    Operation(
        "history",
        "users.view",
        E005001,
        lambda sso, ust, t: sso.user.history(CID, t, ust, APP, ADDR),
        on_self=OK,
        writes=False,
        reads_only=True,
    ),
    Operation(
        "export_history",
        "audit.view",
        E005001,
        lambda sso, ust, t: list(sso.serve(Call(CID, ust, APP, ADDR)).export_history(t)),
        on_self=OK,
        writes=False,
        reads_only=True,
    ),
    Operation("edit_email", "users.edit", E008002, _update({"email": "new@example.com"}), on_self=OK),
    Operation("edit_names", "users.edit", E008002, _update({"first_name": "N", "last_name": None}), on_self=OK),
    Operation("set_must_change", "users.credentials", E008002, _update({"password_must_change": True})),
    Operation(
        "set_sign_up_status",
        "users.approve",
        E008002,
        _update({"sign_up_status": "before_confirmation"}),
        on_self="guard",
    ),
    Operation("lock", "users.lock", E005001, _lifecycle("lock_user"), on_self="guard"),
    Operation(
        "unlock", "users.lock", E005001, _lifecycle("unlock_user"), writes_on_self=False, before={"is_locked": True}
    ),
    Operation(
        "approve",
        "users.approve",
        E005001,
        _lifecycle("approve_user"),
        writes_on_self=False,
        before={"approval_status": "before_decision"},
    ),
    Operation("reject", "users.approve", E005001, _lifecycle("reject_user"), on_self="guard"),
    Operation("delete", "users.delete", E005001, _lifecycle("delete_user"), on_self="guard"),
    Operation(
        "set_password",
        "users.credentials",
        E008002,
        lambda sso, ust, t: sso.user.change_password(
            CID, {"user_id": t, "new_password": "Another-Horse-7"}, ust, APP, ADDR
        ),
        on_self=E005001,  # one's own needs the old password
    ),
    Operation(
        "set_totp_key",
        "users.credentials",
        E008002,
        lambda sso, ust, t: sso.user.reset_totp_key(CID, t, None, "phone", ust, APP, ADDR),
        on_self=OK,  # one's own key is self-editable
    ),
    Operation(
        "list_passkeys",
        "users.credentials",
        E005001,
        lambda sso, ust, t: sso.user.list_passkeys(CID, t, ust, APP, ADDR),
        on_self=OK,
        writes=False,
        reads_only=True,
    ),
    Operation(
        "list_user_roles",
        "users.view",
        E005001,
        lambda sso, ust, t: sso.user.list_user_roles(CID, t, ust, APP, ADDR),
        on_self=OK,
        writes=False,
        reads_only=True,
    ),
    Operation(
        "create_role",
        "roles.manage",
        E005001,
        lambda sso, ust, t: sso.user.create_role(CID, {"name": "r-" + t[-8:]}, ust, APP, ADDR),
        targeted=False,
    ),
    Operation(
        "end_sessions",
        "users.sessions",
        E005001,
        lambda sso, ust, t: sso.user.end_sessions(CID, t, ust, APP, ADDR),
        on_self=OK,
        writes_on_self=False,  # all but the current session: the caller has no other
    ),
    Operation(
        "set_attribute",
        "users.attributes",
        E005001,
        lambda sso, ust, t: sso.user.user_attr(CID, "create", t, {"name": "colour", "value": "red"}, ust, APP, ADDR),
        on_self=OK,
    ),
    Operation(
        "create_user",
        "users.create",
        E005001,
        lambda sso, ust, t: sso.user.create_user(CID, {"username": "made-" + t[-8:]}, ust, APP, ADDR),
        targeted=False,
    ),
    Operation(
        "grant_role",
        "roles.manage",
        E005001,
        lambda sso, ust, t: sso.user.grant_role(CID, t, "auditor", ust, APP, ADDR),
    ),
]
KINDS = ("self", "regular", "stronger", "super-user")


def expected(operation: Operation, role: str, kind: str) -> tuple[str, str]:
    """What SPEC §17 says the call gives."""
    held = ROLES[role] == "all" or operation.permission in ROLES[role]
    if kind == "self" and operation.on_self != "as_other":
        if operation.on_self == "guard":
            return E008001 if held else operation.lacking
        return operation.on_self
    if not held:
        return operation.lacking
    if kind in ("stronger", "super-user") and role != "super-user" and not operation.reads_only:
        return E008001
    return OK


CASES = [
    (operation, role, kind)
    for operation, role, kind in itertools.product(OPERATIONS, ROLES, KINDS)
    if operation.targeted or kind == "regular"
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """One database for the module: a caller per role (logged in), and a role stronger than any shipped one."""
    url = fresh_database(request.param, request, tmp_path_factory)
    sso = create_service(configuration(app_config(url)))
    sso.operator.create_local("root", PASSWORD, super_user=True)
    root = sso.user.login(CID, "root", PASSWORD, APP, ADDR).ust
    sso.user.create_role(CID, {"name": "everything", "permissions": list(PERMISSIONS)}, root, APP, ADDR)
    callers = {}
    for role in ROLES:
        name = f"caller-{role}"
        sso.operator.create_local(name, PASSWORD, super_user=role == "super-user")
        if role not in ("nobody", "super-user"):
            sso.operator.grant_role_local(name, role)
        callers[role] = (sso.operator.user_id_of(name), sso.user.login(CID, name, PASSWORD, APP, ADDR).ust)
    callers["root"] = ("", root)
    yield sso, callers
    sso.ctx.engine.dispose()


_made = itertools.count()


def _target(sso, callers, role: str, kind: str, *, signed_in: bool = False) -> str:
    """The target of one case: the caller, or a new user of `kind` (one a weaker caller cannot change is
    shared: made once per module)."""
    if kind == "self":
        return callers[role][0]
    shared = kind in ("stronger", "super-user") and role != "super-user"
    if shared and f"shared {kind}" in callers:
        return callers[f"shared {kind}"]
    name = f"target-{next(_made)}"
    user = sso.operator.create_local(name, PASSWORD, super_user=kind == "super-user")
    if kind == "stronger":
        sso.operator.grant_role_local(name, "everything")
    if signed_in or shared:
        sso.user.login(CID, name, PASSWORD, APP, ADDR)  # a session to end
    if shared:
        callers[f"shared {kind}"] = user["user_id"]
    return user["user_id"]


def _written(sso, user_id: str) -> tuple:
    """Everything a refused call must leave as it was."""
    with reading(sso.ctx.engine) as conn:
        row = conn.execute(select(users).where(users.c.user_id == user_id)).mappings().first()
        counts = tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (audit, sessions, user_attrs, user_roles, users)
        )
    return (dict(row) if row else None, counts)


@pytest.mark.parametrize(("operation", "role", "kind"), CASES, ids=[f"{o.name}-{r}-{k}" for o, r, k in CASES])
def test_each_operation_is_allowed_or_refused_as_the_role_says(world, operation, role, kind):
    sso, callers = world
    target = _target(sso, callers, role, kind, signed_in=operation.name == "end_sessions")
    if operation.before and kind != "self":
        sso.user.update_user_by_id(CID, target, operation.before, callers["root"][1], APP, ADDR)
    want = expected(operation, role, kind)
    before = _written(sso, target)
    try:
        operation.call(sso, callers[role][1], target)
        got = OK
    except SSOError as error:
        got = (error.kind, ",".join(error.sub_status))
    assert got == want
    after = _written(sso, target)
    if got != OK or not operation.writes or (kind == "self" and not operation.writes_on_self):
        assert after == before, "a refused call or a read wrote something"
    else:
        assert after[1][0] > before[1][0], "an allowed write left no audit record"


def test_a_help_desk_update_names_every_field_outside_its_permissions_at_once(world):
    sso, callers = world
    target = _target(sso, callers, "helpdesk", "regular")
    before = _written(sso, target)
    with pytest.raises(SSOError) as info:
        sso.user.update_user_by_id(
            CID,
            target,
            {"is_locked": True, "email": "x@example.com", "username": "renamed", "approval_status": "rejected"},
            callers["helpdesk"][1],
            APP,
            ADDR,
        )
    assert (info.value.kind, info.value.sub_status) == ("forbidden", ["E008002"])
    assert set(info.value.errors) == {"email", "username", "approval_status"}
    assert _written(sso, target) == before
    sso.user.update_user_by_id(CID, target, {"is_locked": True}, callers["helpdesk"][1], APP, ADDR)
    assert sso.user.get_user_by_id(CID, target, callers["helpdesk"][1], APP, ADDR)["is_locked"] is True
