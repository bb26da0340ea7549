"""Bulk actions (issue 11) through the Python API, on both databases: each user through the single call,
its guard rails and its audit record; one user's refusal never stops the others."""

from __future__ import annotations

import pytest

from webapp.sso import Call, Code, Kind
from webapp.sso.bulk import BULK_MAX
from webapp.sso.kernel.caller import request_scope

from .helpers import ADDR, APP, CID, PASSWORD, audit_of, refused, row_of, session_rows
from .test_one_authentication import session_lookups

NOBODY = "zusr" + "a" * 24  # well-formed, names no user
ALL_ACTIONS = (
    "must be one of approve, reject, lock, unlock, sign_out, delete, "
    "send_password_reset, send_signup_confirmation, send_verify_email"
)


def bulk(sso, ust, action, user_ids):
    return [
        (o.user_id, o.username, o.outcome, o.message, o.sessions)
        for o in sso.user.bulk_action(CID, action, user_ids, ust, APP, ADDR, channel="web")
    ]


def whoami(sso, ust) -> str:
    return sso.user.get_current_user(CID, ust, APP, ADDR)["username"]


def test_one_lock_call_reports_done_unchanged_refused_and_not_found_per_user(sso, admin, alice, make_user, login):
    me, ust = admin
    bob = make_user("bob")
    sso.user.lock_user(CID, bob["user_id"], ust, APP, ADDR)
    alice_user, alice_ust = alice
    records_before = len(audit_of(sso))
    ids = [alice_user["user_id"], bob["user_id"], me["user_id"], NOBODY, alice_user["user_id"]]
    assert bulk(sso, ust, "lock", ids) == [
        (alice_user["user_id"], "alice", "done", None, None),
        (bob["user_id"], "bob", "unchanged", None, None),
        (me["user_id"], "admin", "refused", "you cannot lock your own account", None),
        (NOBODY, None, "not_found", None, None),
    ]
    assert row_of(sso, alice_user["user_id"])["is_locked"] is True
    with refused(Kind.forbidden, Code.user_locked):
        whoami(sso, alice_ust)
    assert row_of(sso, me["user_id"])["is_locked"] is False
    assert whoami(sso, ust) == "admin"
    # One record, for the one change; the duplicate id ran once.
    [record] = audit_of(sso)[records_before:]
    assert record["target_id"] == alice_user["user_id"] and record["actor_id"] == me["user_id"]
    assert record["channel"] == "web" and record["changes"]["is_locked"] == {"old": False, "new": True}


def test_approve_reject_and_unlock_go_through_the_single_calls(sso, admin, alice, make_user):
    _, ust = admin
    wendy = sso.user.create_user(CID, {"username": "wendy", "password": PASSWORD}, ust, APP, ADDR)
    alice_id = alice[0]["user_id"]
    assert [o[2] for o in bulk(sso, ust, "approve", [wendy["user_id"], alice_id])] == ["done", "unchanged"]
    assert row_of(sso, wendy["user_id"])["approval_status"] == "approved"
    assert [o[2] for o in bulk(sso, ust, "reject", [wendy["user_id"]])] == ["done"]
    assert row_of(sso, wendy["user_id"])["approval_status"] == "rejected"
    sso.user.lock_user(CID, alice_id, ust, APP, ADDR)
    assert [o[2] for o in bulk(sso, ust, "unlock", [alice_id, wendy["user_id"]])] == ["done", "unchanged"]
    assert row_of(sso, alice_id)["is_locked"] is False


def test_the_last_usable_super_user_guard_refuses_that_user_and_lets_the_others_through(sso, admin, alice, make_user):
    """A super-user acting through a linked API client has no password, so cannot log in themselves:
    locking or deleting the one super-user who can would leave none."""
    me, ust = admin
    robot = make_user("robot", super_user=True, password=None)
    secret = sso.operator.create_api_client("ops.robot")
    sso.user.link(CID, robot["user_id"], {"auth_type": "zato.basic_auth", "auth_username": "ops.robot"}, ust, APP, ADDR)
    robot_ust = sso.serve(Call(cid=CID, current_app=APP, remote_addr=ADDR)).basic_session("ops.robot", secret)
    guard = "no super-user who can log in would be left"
    for action in ("lock", "delete"):
        outcomes = bulk(
            sso, robot_ust, action, [me["user_id"], alice[0]["user_id"]] if action == "lock" else [me["user_id"]]
        )
        assert outcomes[0] == (me["user_id"], "admin", "refused", guard, None), action
    assert bulk(sso, robot_ust, "lock", [alice[0]["user_id"]])[0][2] == "unchanged"  # locked in the first run
    assert row_of(sso, me["user_id"])["is_locked"] is False and whoami(sso, ust) == "admin"


def test_delete_removes_each_user_with_one_audit_record_each_and_never_oneself(sso, admin, alice, make_user, login):
    me, ust = admin
    bob = make_user("bob")
    login("bob")
    ids = [alice[0]["user_id"], bob["user_id"], me["user_id"]]
    assert bulk(sso, ust, "delete", ids) == [
        (alice[0]["user_id"], "alice", "done", None, None),
        (bob["user_id"], "bob", "done", None, None),
        (me["user_id"], "admin", "refused", "you cannot delete your own account", None),
    ]
    assert sso.user.search(CID, {"username": "alice"}, ust, APP, ADDR)["total"] == 0
    assert session_rows(sso, bob["user_id"]) == []
    for user_id, username in ((alice[0]["user_id"], "alice"), (bob["user_id"], "bob")):
        [record] = audit_of(sso, user_id, "delete")
        assert record["actor_id"] == me["user_id"] and record["changes"]["username"] == {"old": username, "new": None}
    assert audit_of(sso, me["user_id"], "delete") == []
    # Deleted meanwhile: the next run finds them no more.
    assert [o[2] for o in bulk(sso, ust, "delete", ids[:1])] == ["not_found"]


def test_sign_out_ends_every_session_and_says_when_there_were_none(sso, admin, alice, make_user, login):
    me, ust = admin
    alice_user, alice_ust = alice
    login("alice")
    bob = make_user("bob")
    other_admin_ust = login("admin")
    assert bulk(sso, ust, "sign_out", [alice_user["user_id"], bob["user_id"], me["user_id"]]) == [
        (alice_user["user_id"], "alice", "done", None, 2),
        (bob["user_id"], "bob", "unchanged", None, 0),
        (me["user_id"], "admin", "done", None, 1),  # one's own: every session but this one
    ]
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, alice_ust)
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, other_admin_ust)
    assert whoami(sso, ust) == "admin"
    [record] = audit_of(sso, alice_user["user_id"], "end_sessions")
    assert record["changes"]["sessions"] == {"old": 2, "new": 0}
    assert audit_of(sso, bob["user_id"], "end_sessions") == []


def test_a_regular_user_gets_one_refusal_and_nothing_is_written(sso, admin, alice, make_user):
    bob, carol = make_user("bob"), make_user("carol")
    records_before = len(audit_of(sso))
    lookups = session_lookups(sso)
    with refused(Kind.forbidden, Code.auth_invalid):
        bulk(sso, alice[1], "lock", [bob["user_id"], carol["user_id"], admin[0]["user_id"]])
    assert len(lookups) == 1
    assert len(audit_of(sso)) == records_before
    assert not row_of(sso, bob["user_id"])["is_locked"] and not row_of(sso, carol["user_id"])["is_locked"]
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.serve(Call(cid=CID, ust=alice[1], current_app=APP, remote_addr=ADDR)).bulk_selection([bob["user_id"]])
    with refused(Kind.unauthenticated, Code.session_invalid):
        bulk(sso, "not-a-ust", "lock", [bob["user_id"]])


def test_the_caller_is_authenticated_once_for_the_whole_run(sso, admin, make_user):
    _, ust = admin
    ids = [make_user(f"user{i}")["user_id"] for i in range(4)]
    lookups = session_lookups(sso)
    with request_scope():
        bulk(sso, ust, "lock", ids)
        assert len(lookups) == 1
        sso.user.get_current_user(CID, ust, APP, ADDR)  # the run's writes committed: look again
        assert len(lookups) == 2
    bulk(sso, ust, "unlock", ids)  # outside a request scope too
    assert len(lookups) == 3


@pytest.mark.parametrize(
    "action,user_ids,errors",
    [
        ("lock", [], {"user_ids": "select at least one user"}),
        ("lock", [f"zusr{i:024d}" for i in range(BULK_MAX + 1)], {"user_ids": f"at most {BULK_MAX} users at a time"}),
        ("lock", ["zusrok", 7], {"user_ids": "item 2 is not a user id"}),
        ("lock", ["x" * 65], {"user_ids": "item 1 is not a user id"}),
        ("lock", ["bad\x00id"], {"user_ids": "item 1 is not a user id"}),
        ("lock", "zusrabc", {"user_ids": "must be a list of user ids"}),
        ("explode", ["zusrabc"], {"action": ALL_ACTIONS}),
        (None, None, {"action": ALL_ACTIONS, "user_ids": "must be a list of user ids"}),
    ],
    ids=["empty", "too-many", "not-text", "too-long", "control", "not-a-list", "unknown-action", "both"],
)
def test_bad_input_names_the_field_and_writes_nothing(sso, admin, alice, action, user_ids, errors):
    records_before = len(audit_of(sso))
    with refused(Kind.invalid, *([Code.invalid_input])) as info:
        sso.user.bulk_action(CID, action, user_ids, admin[1], APP, ADDR)
    assert info.value.errors == errors
    assert len(audit_of(sso)) == records_before


def test_exactly_the_maximum_is_accepted_duplicates_collapsed(sso, admin):
    ids = [f"zusr{i:024d}" for i in range(BULK_MAX)] * 2
    outcomes = sso.user.bulk_action(CID, "unlock", ids, admin[1], APP, ADDR)
    assert len(outcomes) == BULK_MAX and {o.outcome for o in outcomes} == {"not_found"}


def test_the_selection_shows_usernames_and_live_sessions(sso, admin, alice, make_user, login):
    login("alice")
    bob = make_user("bob")
    shown = sso.serve(Call(cid=CID, ust=admin[1], current_app=APP, remote_addr=ADDR)).bulk_selection(
        [alice[0]["user_id"], bob["user_id"], NOBODY]
    )
    assert [(t.username, t.sessions) for t in shown] == [("alice", 2), ("bob", 0), (None, 0)]
