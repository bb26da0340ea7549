"""The command line for the administrator who is locked out or in a hurry (issue 8): unlock, set-password,
list-users, end-sessions, and create-super-user --email."""

from __future__ import annotations

from webapp.sso import Code, Kind

from .helpers import ADDR, APP, CID, PASSWORD, audit_of, refused, row_of, session_rows

NEW_PASSWORD = "Another-Horse-12"


def run(app, *args, env=None, input=None):
    return app.test_cli_runner().invoke(args=["sso", *args], env=env, input=input)


def test_unlock_lets_a_locked_out_super_user_back_in(app, sso, admin, make_user, login):
    other = make_user("other", super_user=True)
    sso.user.lock_user(CID, admin[0]["user_id"], login("other"), APP, ADDR)
    with refused(Kind.forbidden, Code.auth_invalid):
        login("admin")
    result = run(app, "unlock", "ADMIN")
    assert result.exit_code == 0, result.output
    assert "Unlocked admin" in result.output
    assert login("admin")
    [*_, record] = audit_of(sso, admin[0]["user_id"], "update")
    assert (record["channel"], record["actor_id"], record["changes"]) == (
        "cli",
        None,
        {"is_locked": {"old": True, "new": False}},
    )
    assert other["user_id"] != admin[0]["user_id"]


def test_unlock_of_an_unknown_user_fails_clearly(app):
    result = run(app, "unlock", "nobody")
    assert result.exit_code != 0 and "E001100" in result.output and "no such user" in result.output


def test_set_password_from_the_environment_ends_every_session(app, sso, alice, login):
    user, _ust = alice
    result = run(app, "set-password", "alice", env={"SSO_PASSWORD": NEW_PASSWORD})
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert session_rows(sso, user["user_id"]) == []
    with refused(Kind.forbidden, Code.auth_invalid):
        login("alice")
    assert login("alice", NEW_PASSWORD)
    [record] = audit_of(sso, user["user_id"], "change_password")
    assert record["channel"] == "cli" and NEW_PASSWORD not in str(record)


def test_set_password_asks_twice_with_a_hidden_prompt(app, sso, alice, login):
    result = run(app, "set-password", "alice", env={"SSO_PASSWORD": None}, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert login("alice", NEW_PASSWORD)


def test_set_password_refuses_a_weak_password_and_an_unknown_user(app, sso, alice, login):
    weak = run(app, "set-password", "alice", env={"SSO_PASSWORD": "short"})
    assert weak.exit_code != 0 and "E003002" in weak.output and "short" not in weak.output.replace("E003002", "")
    assert login("alice") and session_rows(sso, alice[0]["user_id"])
    unknown = run(app, "set-password", "nobody", env={"SSO_PASSWORD": NEW_PASSWORD})
    assert unknown.exit_code != 0 and "no such user" in unknown.output


def test_list_users_shows_each_user_role_and_state(app, sso, admin, alice, as_admin):
    as_admin(alice[0]["user_id"], {"is_locked": True, "email": "alice@example.com"})
    result = run(app, "list-users")
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[0] for line in lines] == ["admin", "alice"]
    assert lines[0][1:3] == [admin[0]["user_id"], "super-user"]
    assert lines[1][2:] == ["user", "approved, locked", "alice@example.com"]


def test_end_sessions_signs_a_user_out_everywhere(app, sso, alice, login):
    _user, ust = alice
    login("alice")
    result = run(app, "end-sessions", "alice")
    assert result.exit_code == 0, result.output
    assert "Ended 2 session(s) of alice" in result.output
    with refused(Kind.unauthenticated, Code.session_invalid):
        sso.user.get_current_user(CID, ust, APP, ADDR)
    assert run(app, "end-sessions", "nobody").exit_code != 0


def test_create_super_user_takes_an_email(app, sso):
    result = run(app, "create-super-user", "root", "--email", "root@example.com", env={"SSO_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    login = sso.user.login(CID, "root", PASSWORD, APP, ADDR)
    assert row_of(sso, login.user_id)["email"] == "root@example.com"
    bad = run(app, "create-super-user", "root2", "--email", "not-an-email", env={"SSO_PASSWORD": PASSWORD})
    assert bad.exit_code != 0 and "email" in bad.output
