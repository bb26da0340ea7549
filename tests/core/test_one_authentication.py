"""One authentication per request (issue 14): service calls inside one request scope share the
caller found first, and any committed write makes the next call look again."""

from __future__ import annotations

from sqlalchemy import event

from webapp.sso import Code, Kind
from webapp.sso.kernel.caller import request_scope

from .helpers import ADDR, APP, CID, refused


def session_lookups(sso):
    """A counter of the SQL statements that look a session up (the authentication query)."""
    seen = []

    def spy(_conn, _cursor, statement, *_args):
        if (
            "sso_session" in statement
            and "JOIN" in statement.upper()
            and statement.lstrip().upper().startswith("SELECT")
        ):
            seen.append(statement)

    event.listen(sso.ctx.engine, "before_cursor_execute", spy)
    return seen


def test_several_calls_in_one_request_authenticate_once(sso, admin, alice):
    _, ust = admin
    target, _ = alice
    lookups = session_lookups(sso)
    with request_scope():
        sso.user.get_current_user(CID, ust, APP, ADDR)
        sso.user.get_user_by_id(CID, target["user_id"], ust, APP, ADDR)
        sso.user.search(CID, {"username": "alice"}, ust, APP, ADDR)
        sso.user.history(CID, target["user_id"], ust, APP, ADDR)
    assert len(lookups) == 1
    sso.user.get_current_user(CID, ust, APP, ADDR)  # outside a scope: every call looks again
    sso.user.get_current_user(CID, ust, APP, ADDR)
    assert len(lookups) == 3


def test_a_write_in_the_request_makes_the_next_call_authenticate_again(sso, admin, alice):
    _, ust = admin
    target, _ = alice
    lookups = session_lookups(sso)
    with request_scope():
        sso.user.update_user_by_id(CID, target["user_id"], {"display_name": "Alice A."}, ust, APP, ADDR)
        assert len(lookups) == 1
        sso.user.get_user_by_id(CID, target["user_id"], ust, APP, ADDR)
        assert len(lookups) == 2


def test_after_a_logout_in_the_same_request_the_session_no_longer_works(sso, alice):
    _, ust = alice
    with request_scope():
        sso.user.get_current_user(CID, ust, APP, ADDR)
        sso.user.logout(CID, ust, APP, ADDR)
        with refused(Kind.unauthenticated, Code.session_invalid):
            sso.user.get_current_user(CID, ust, APP, ADDR)


def test_an_own_change_is_seen_by_the_next_call_of_the_same_request(sso, alice):
    _, ust = alice
    with request_scope():
        before = sso.user.get_current_user(CID, ust, APP, ADDR)
        sso.user.update_current_user(CID, {"display_name": "Alice Changed"}, ust, APP, ADDR)
        after = sso.user.get_current_user(CID, ust, APP, ADDR)
    assert before["display_name"] != "Alice Changed" and after["display_name"] == "Alice Changed"


def test_a_refusal_is_not_remembered(sso, alice):
    _, ust = alice
    with request_scope():
        with refused(Kind.forbidden, Code.app_not_allowed):
            sso.user.get_current_user(CID, ust, "NotAnApp", ADDR)
        assert sso.user.get_current_user(CID, ust, APP, ADDR)["username"] == "alice"
