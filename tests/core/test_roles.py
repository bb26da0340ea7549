"""Roles (SPEC §17) through the Python API on both databases: the shipped roles, bad input, the audit,
the escalation attempts the guard rails stop, and the last holder of `roles.manage` under a race."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select, update

from webapp.db import reading, writing
from webapp.sso import SSOError
from webapp.sso.kernel.tables import audit, roles, user_roles, users

from .helpers import ADDR, APP, CID, audit_of, refused

ROLE_ADMIN = ["users.view", "users.edit", "users.credentials", "users.sessions", "users.lock", "roles.manage"]


def _counts(sso) -> tuple[int, ...]:
    """Rows of roles, grants and audit records: what a refused call must leave as it was."""
    with reading(sso.ctx.engine) as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one() for table in (roles, user_roles, audit)
        )


@pytest.fixture
def root(admin):
    return admin[1]


@pytest.fixture
def role_admin(sso, root, make_user, login):
    """A user holding a custom role with `roles.manage` and part of users.*: (user_id, ust)."""
    sso.user.create_role(CID, {"name": "role-admin", "permissions": ROLE_ADMIN}, root, APP, ADDR)
    user = make_user("rita")
    sso.user.grant_role(CID, user["user_id"], "role-admin", root, APP, ADDR)
    return user["user_id"], login("rita")


def test_the_three_shipped_roles_are_there_as_the_specification_says(sso, root):
    shipped = {role["name"]: set(role["permissions"]) for role in sso.user.list_roles(CID, root, APP, ADDR)}
    assert shipped == {
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
    }


def test_a_shipped_role_can_be_edited_and_the_change_is_audited_old_to_new(sso, root):
    role = sso.user.update_role(
        CID, "helpdesk", {"permissions": ["users.view", "users.lock"], "description": "Unlocks"}, root, APP, ADDR
    )
    assert role["permissions"] == ["users.view", "users.lock"]
    assert sso.user.get_role(CID, "helpdesk", root, APP, ADDR)["description"] == "Unlocks"
    [record] = audit_of(sso, "role:helpdesk", "role_update")
    assert record["changes"]["permissions"] == {
        "old": ["users.view", "users.lock", "users.credentials", "users.sessions"],
        "new": ["users.view", "users.lock"],
    }


def test_bad_role_input_is_refused_naming_every_field_and_nothing_is_written(sso, root):
    before = _counts(sso)
    with refused("invalid", "E008002") as info:
        sso.user.create_role(
            CID, {"name": "", "permissions": ["users.view", "users.fly", "users.view"]}, root, APP, ADDR
        )
    assert info.value.errors["name"] == "must not be empty"
    assert "users.fly" in info.value.errors["permissions"]
    with refused("invalid", "E008002") as info:
        sso.user.create_role(CID, {"name": "Has Space", "description": 7, "colour": "red"}, root, APP, ADDR)
    assert set(info.value.errors) == {"colour"}
    with refused("invalid", "E008002") as info:
        sso.user.create_role(CID, {"name": "Has Space", "description": 7}, root, APP, ADDR)
    assert set(info.value.errors) == {"name", "description"}
    with refused("invalid", "E008002") as info:
        sso.user.create_role(CID, {"permissions": ["users.view"]}, root, APP, ADDR)
    assert info.value.errors == {"name": "is required"}
    with refused("invalid", "E008002") as info:
        sso.user.create_role(CID, {"name": "r" * 49}, root, APP, ADDR)
    assert info.value.errors == {"name": "must be at most 48 characters"}
    with refused("conflict", "E008002") as info:
        sso.user.create_role(CID, {"name": "helpdesk"}, root, APP, ADDR)
    assert info.value.errors == {"name": "a role with this name exists"}
    with refused("invalid", "E008002") as info:
        sso.user.update_role(CID, "helpdesk", {"name": "desk"}, root, APP, ADDR)
    assert info.value.errors == {"name": "cannot be changed"}
    with refused("not_found", "E008002"):
        sso.user.update_role(CID, "nosuch", {"description": "x"}, root, APP, ADDR)
    with refused("not_found", "E008002"):
        sso.user.delete_role(CID, "nosuch", root, APP, ADDR)
    with refused("not_found", "E008002") as info:
        sso.user.grant_role(CID, sso.operator.user_id_of("admin"), "nosuch", root, APP, ADDR)
    assert info.value.errors == {"role": "no such role"}
    for impossible in ("nul\x00role", "r" * 500, "Upper Case"):  # no role has such a name: the database is not asked
        with refused("not_found", "E008002"):
            sso.user.grant_role(CID, sso.operator.user_id_of("admin"), impossible, root, APP, ADDR)
        with refused("not_found", "E008002"):
            sso.user.revoke_role(CID, sso.operator.user_id_of("admin"), impossible, root, APP, ADDR)
        with refused("not_found", "E008002"):
            sso.user.delete_role(CID, impossible, root, APP, ADDR)
    with refused("not_found", "E001100"):
        sso.user.grant_role(CID, "zusrnobody", "auditor", root, APP, ADDR)
    with refused("malformed", "E008002") as info:
        sso.user.grant_role(CID, "", None, root, APP, ADDR)
    assert set(info.value.errors) == {"user_id", "role"}
    assert _counts(sso) == before
    longest = sso.user.create_role(CID, {"name": "r" * 48}, root, APP, ADDR)
    assert audit_of(sso, "role:" + longest["name"], "role_create")


def test_a_role_held_by_someone_is_not_deleted_and_the_refusal_names_the_holders(sso, root, make_user):
    bob = make_user("bob")
    sso.user.grant_role(CID, bob["user_id"], "auditor", root, APP, ADDR)
    before = _counts(sso)
    with refused("forbidden", "E008001") as info:
        sso.user.delete_role(CID, "auditor", root, APP, ADDR)
    assert info.value.errors == {"name": "revoke it from its holders first: bob"}
    assert _counts(sso) == before
    assert sso.user.revoke_role(CID, bob["user_id"], "auditor", root, APP, ADDR) == []
    sso.user.delete_role(CID, "auditor", root, APP, ADDR)
    assert [r["name"] for r in sso.user.list_roles(CID, root, APP, ADDR)] == ["helpdesk", "user-admin"]
    assert audit_of(sso, "role:auditor", "role_delete")[0]["changes"]["name"] == {"old": "auditor", "new": None}


def test_grants_and_revokes_are_audited_old_to_new_and_a_repeat_writes_nothing(sso, root, make_user):
    bob = make_user("bob")
    assert sso.user.grant_role(CID, bob["user_id"], "helpdesk", root, APP, ADDR) == ["helpdesk"]
    assert sso.user.grant_role(CID, bob["user_id"], "auditor", root, APP, ADDR) == ["auditor", "helpdesk"]
    assert sso.user.grant_role(CID, bob["user_id"], "auditor", root, APP, ADDR) == ["auditor", "helpdesk"]
    assert sso.user.revoke_role(CID, bob["user_id"], "helpdesk", root, APP, ADDR) == ["auditor"]
    changes = [(r["action"], r["changes"]["roles"]) for r in audit_of(sso, bob["user_id"]) if "roles" in r["changes"]]
    assert changes == [
        ("role_grant", {"old": [], "new": ["helpdesk"]}),
        ("role_grant", {"old": ["helpdesk"], "new": ["auditor", "helpdesk"]}),
        ("role_revoke", {"old": ["auditor", "helpdesk"], "new": ["auditor"]}),
    ]
    assert sso.user.list_user_roles(CID, bob["user_id"], root, APP, ADDR) == ["auditor"]


def test_a_holder_sees_their_permissions_and_others_their_own_roles_only(sso, root, make_user, login):
    bob = make_user("bob")
    sso.user.grant_role(CID, bob["user_id"], "auditor", root, APP, ADDR)
    make_user("carol")
    carol_ust = login("carol")
    assert sso.user.list_user_roles(CID, None, login("bob"), APP, ADDR) == ["auditor"]
    assert sso.user.list_user_roles(CID, None, carol_ust, APP, ADDR) == []
    with refused("forbidden", "E005001"):
        sso.user.list_user_roles(CID, bob["user_id"], carol_ust, APP, ADDR)
    with refused("forbidden", "E005001"):
        sso.user.list_roles(CID, carol_ust, APP, ADDR)


# --- escalation (SPEC §17's guard rails) ---


def test_nobody_grants_or_builds_a_role_with_a_permission_they_lack(sso, root, role_admin, make_user):
    _, ust = role_admin
    bob = make_user("bob")
    before = _counts(sso)
    with refused("forbidden", "E008001") as info:
        sso.user.grant_role(CID, bob["user_id"], "user-admin", ust, APP, ADDR)
    assert "users.approve" in info.value.errors["role"]
    with refused("forbidden", "E008001"):
        sso.user.create_role(CID, {"name": "deleter", "permissions": ["users.delete"]}, ust, APP, ADDR)
    with refused("forbidden", "E008001"):
        sso.user.update_role(CID, "helpdesk", {"permissions": ["users.view", "users.delete"]}, ust, APP, ADDR)
    with refused("forbidden", "E008001"):  # taking away what they lack is handing it out in reverse
        sso.user.update_role(CID, "user-admin", {"permissions": ["users.view"]}, ust, APP, ADDR)
    assert _counts(sso) == before
    assert sso.user.grant_role(CID, bob["user_id"], "helpdesk", ust, APP, ADDR) == ["helpdesk"]


def test_a_weaker_administrator_cannot_take_over_a_stronger_one(sso, root, role_admin, make_user, login):
    _, ust = role_admin
    boss = make_user("boss")
    sso.user.grant_role(CID, boss["user_id"], "user-admin", root, APP, ADDR)
    login("boss")
    before = _counts(sso), sso.user.get_user_by_id(CID, boss["user_id"], root, APP, ADDR)
    attempts = {
        "email": lambda: sso.user.update_user_by_id(CID, boss["user_id"], {"email": "me@evil.test"}, ust, APP, ADDR),
        "password": lambda: sso.user.change_password(
            CID, {"user_id": boss["user_id"], "new_password": "Taken-Over-99"}, ust, APP, ADDR
        ),
        "sessions": lambda: sso.user.end_sessions(CID, boss["user_id"], ust, APP, ADDR),
        "revoke": lambda: sso.user.revoke_role(CID, boss["user_id"], "user-admin", ust, APP, ADDR),
        "grant": lambda: sso.user.grant_role(CID, boss["user_id"], "helpdesk", ust, APP, ADDR),
        "lock": lambda: sso.user.lock_user(CID, boss["user_id"], ust, APP, ADDR),
    }
    for name, attempt in attempts.items():
        with pytest.raises(SSOError) as info:
            attempt()
        assert (info.value.kind, info.value.sub_status) == ("forbidden", ["E008001"]), name
    assert (_counts(sso), sso.user.get_user_by_id(CID, boss["user_id"], root, APP, ADDR)) == before
    assert len(sso.user.list_sessions(CID, boss["user_id"], root, APP, ADDR)) == 1


# --- the last holder of roles.manage ---


def _no_super_user(sso) -> None:
    """A deployment without a super-user (only then does the roles.manage rail decide)."""
    with writing(sso.ctx.engine) as conn:
        conn.execute(update(users).where(users.c.is_super_user.is_(True)).values(is_super_user=False))


@pytest.fixture
def two_managers(sso, make_user, login):
    """Two users holding `roles.manage`, and no super-user: {username: (user_id, ust)}."""
    make_user("setup", super_user=True)
    sso.user.create_role(CID, {"name": "role-admin", "permissions": ROLE_ADMIN}, login("setup"), APP, ADDR)
    managers = {}
    for name in ("ann", "ben"):
        make_user(name)
        sso.operator.grant_role_local(name, "role-admin")
        managers[name] = (sso.operator.user_id_of(name), login(name))
    _no_super_user(sso)
    return managers


def test_the_last_usable_holder_of_roles_manage_keeps_it(sso, two_managers):
    (ann_id, ann), (ben_id, _) = two_managers["ann"], two_managers["ben"]
    assert sso.user.revoke_role(CID, ben_id, "role-admin", ann, APP, ADDR) == []
    before = _counts(sso)
    with refused("forbidden", "E008001") as info:
        sso.user.revoke_role(CID, ann_id, "role-admin", ann, APP, ADDR)
    assert info.value.errors == {"role": "nobody who can log in would be left able to manage roles"}
    with refused("forbidden", "E008001"):
        sso.user.update_role(CID, "role-admin", {"permissions": ROLE_ADMIN[:-1]}, ann, APP, ADDR)
    with refused("forbidden", "E008001"):
        sso.operator.revoke_role_local("ann", "role-admin")
    assert _counts(sso) == before


def _slow_revokes(engine) -> None:
    """Hold each revoke's DELETE back 100 ms, so the two transactions overlap whatever the scheduler does."""

    def pause(conn, cursor, statement, *args):
        if statement.startswith("DELETE FROM sso_user_role"):
            time.sleep(0.1)

    event.listen(engine, "before_cursor_execute", pause)


def test_two_managers_revoking_each_other_at_once_leave_one_of_them(sso, two_managers):
    (ann_id, ann), (ben_id, ben) = two_managers["ann"], two_managers["ben"]
    _slow_revokes(sso.ctx.engine)
    for _ in range(3):
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def revoke(name, target, ust, barrier=barrier, results=results):
            barrier.wait()
            try:
                results[name] = sso.user.revoke_role(CID, target, "role-admin", ust, APP, ADDR)
            except SSOError as error:
                results[name] = error.sub_status

        threads = [
            threading.Thread(target=revoke, args=("ann", ben_id, ann)),
            threading.Thread(target=revoke, args=("ben", ann_id, ben)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # One wins; the other is refused: by the rail (E008001) when it read its own permission before the
        # winner committed, or as no longer holding roles.manage (E005001) when it read it after.
        outcomes = sorted(map(str, results.values()))
        assert outcomes in (["['E008001']", "[]"], ["['E005001']", "[]"]), results
        with reading(sso.ctx.engine) as conn:
            holders = conn.execute(select(user_roles.c.user_id).where(user_roles.c.role == "role-admin")).all()
        assert len(holders) == 1
        sso.operator.grant_role_local("ann", "role-admin")
        sso.operator.grant_role_local("ben", "role-admin")


def test_the_command_line_grants_and_revokes_roles_and_names_a_typo(app, sso, make_user, login):
    make_user("hal")
    runner = app.test_cli_runner()
    granted = runner.invoke(args=["sso", "grant-role", "hal", "helpdesk"])
    assert (granted.exit_code, granted.output) == (0, "hal holds: helpdesk.\n")
    assert sso.user.list_user_roles(CID, None, login("hal"), APP, ADDR) == ["helpdesk"]
    unknown = runner.invoke(args=["sso", "grant-role", "hal", "janitor"])
    assert unknown.exit_code == 1 and "role: no such role" in unknown.output
    nobody = runner.invoke(args=["sso", "revoke-role", "nobody", "helpdesk"])
    assert nobody.exit_code == 1 and "username: no such user" in nobody.output
    revoked = runner.invoke(args=["sso", "revoke-role", "hal", "helpdesk"])
    assert (revoked.exit_code, revoked.output) == (0, "hal holds: no role.\n")
    records = [
        (r["action"], r["channel"]) for r in audit_of(sso, sso.operator.user_id_of("hal")) if "roles" in r["changes"]
    ]
    assert records == [("role_grant", "cli"), ("role_revoke", "cli")]


def test_the_role_check_of_an_update_reads_the_targets_roles_with_its_row(sso, root, role_admin, make_user, login):
    """A role holder's update of someone else costs no statement more than a super-user's (issue 30): the
    target's roles come with its row; and the check still tells a weaker target from a stronger one."""
    _, ust = role_admin
    desk, boss = make_user("desk"), make_user("boss")
    sso.user.grant_role(CID, desk["user_id"], "helpdesk", root, APP, ADDR)  # a subset of role-admin's
    sso.user.grant_role(CID, boss["user_id"], "user-admin", root, APP, ADDR)  # holds more than role-admin

    def statements(caller_ust: str, user_id: str, name: str) -> int:
        seen = []

        def count(*_args) -> None:
            seen.append(1)

        event.listen(sso.ctx.engine, "before_cursor_execute", count)
        try:
            sso.user.update_user_by_id(CID, user_id, {"display_name": name}, caller_ust, APP, ADDR)
        finally:
            event.remove(sso.ctx.engine, "before_cursor_execute", count)
        return len(seen)

    for warm in ("w1", "w2"):  # the sessions' last-use marks and the statement caches settle first
        statements(root, desk["user_id"], warm)
        statements(ust, desk["user_id"], warm + "x")
    assert statements(ust, desk["user_id"], "By the desk") == statements(root, desk["user_id"], "By root")
    assert sso.user.get_user_by_id(CID, desk["user_id"], root, APP, ADDR)["display_name"] == "By root"
    with refused("forbidden", "E008001"):
        sso.user.update_user_by_id(CID, boss["user_id"], {"display_name": "Taken"}, ust, APP, ADDR)
