"""SPEC §9 through the Python API: public session ids, verify, get, list, end one and end all, last use."""

from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.sso import Code, Kind, SSOError

from .helpers import ADDR, APP, CID, audit_of, frozen_clock, refused, session_rows


def whoami(sso, ust) -> str:
    return sso.user.get_current_user(CID, ust, APP, ADDR)["username"]


def listed(sso, ust, user_id=None, **kw):
    return sso.user.list_sessions(CID, user_id, ust, APP, ADDR, **kw)


def test_each_session_has_its_own_public_id_which_is_neither_the_ust_nor_its_hash(sso, alice, login):
    user, ust = alice
    second = login("alice")
    stored = session_rows(sso, user["user_id"])
    ids = {row["session_id"] for row in stored}
    assert len(ids) == 2 and all(i.startswith("zses") and len(i) == 28 for i in ids)
    assert not ids & {row["session_hash"] for row in stored}
    assert not any(i in token for i in ids for token in (ust, second))


def test_the_list_shows_my_live_sessions_newest_first_with_the_current_one_marked(sso, alice, login):
    clock = frozen_clock(sso)
    user, first = alice
    clock(seconds=5)
    second = sso.user.login(CID, "alice", "Correct-Horse-9", "Console", "10.0.0.2", "Firefox/120").ust
    shown = listed(sso, first)
    assert [s["current_app"] for s in shown] == ["Console", "CRM"]
    assert [s["is_current"] for s in shown] == [False, True]
    assert shown[0]["remote_addr"] == "10.0.0.2" and shown[0]["user_agent"] == "Firefox/120"
    assert set(shown[0]) == {
        "session_id",
        "user_id",
        "current_app",
        "remote_addr",
        "user_agent",
        "creation_time",
        "expiration_time",
        "last_use_time",
        "is_current",
    }
    assert shown[0]["creation_time"].tzinfo is not None
    assert [s["is_current"] for s in listed(sso, second)] == [True, False]
    assert listed(sso, first, user["user_id"]) == shown  # one's own id is one's own list


def test_expired_and_ended_sessions_are_not_listed(sso, alice, login):
    clock = frozen_clock(sso)
    _, _old = alice
    clock(minutes=50)
    newer = login("alice")
    clock(minutes=15)
    assert len(listed(sso, newer)) == 1
    sso.user.logout(CID, newer, APP, ADDR)
    with refused(Kind.unauthenticated, Code.session_invalid):
        listed(sso, newer)


def test_a_super_user_lists_anyones_sessions_by_user_id_or_by_their_ust(sso, admin, alice):
    user, ust = alice
    by_id = listed(sso, admin[1], user["user_id"])
    by_ust = listed(sso, admin[1], target_ust=ust)
    assert by_id == by_ust and len(by_id) == 1
    assert by_id[0]["user_id"] == user["user_id"] and by_id[0]["is_current"] is False


def test_a_regular_user_cannot_list_another_users_sessions(sso, admin, alice):
    _, ust = alice
    with refused(Kind.forbidden, Code.auth_invalid):
        listed(sso, ust, admin[0]["user_id"])
    with refused(Kind.forbidden, Code.auth_invalid):
        listed(sso, ust, target_ust=admin[1])


def test_listing_names_an_unknown_user_or_session_and_refuses_both_forms_at_once(sso, admin, alice):
    with refused(Kind.not_found, Code.user_id_unknown):
        listed(sso, admin[1], "zusrnobody")
    with refused(Kind.not_found, Code.session_invalid):
        listed(sso, admin[1], target_ust="junk")
    with refused(Kind.invalid, Code.invalid_input) as info:
        listed(sso, admin[1], alice[0]["user_id"], target_ust=alice[1])
    assert set(info.value.errors) == {"user_id", "target_ust"}


def test_verify_answers_whether_a_ust_is_usable_without_renewing_it(sso, admin, alice, login):
    user, ust = alice
    before = session_rows(sso, user["user_id"])
    assert sso.user.verify_session(CID, ust, admin[1], APP, ADDR) is True
    assert sso.user.verify_session(CID, ust, ust, APP, ADDR) is True  # the owner of both
    assert session_rows(sso, user["user_id"]) == before
    sso.user.logout(CID, ust, APP, ADDR)
    assert sso.user.verify_session(CID, ust, admin[1], APP, ADDR) is False
    for junk in ("", "junk", None, 7):
        assert sso.user.verify_session(CID, junk, admin[1], APP, ADDR) is False


def test_verify_says_false_for_a_locked_or_expired_users_session(sso, admin, alice, make_user, login):
    user, ust = alice
    sso.user.update_user_by_id(CID, user["user_id"], {"password_expiry": "2001-01-01T00:00:00"}, admin[1], APP, ADDR)
    assert sso.user.verify_session(CID, ust, admin[1], APP, ADDR) is False
    make_user("bob")
    bob = login("bob")
    clock = frozen_clock(sso)
    clock(minutes=61)
    admin_again = login("admin")
    assert sso.user.verify_session(CID, bob, admin_again, APP, ADDR) is False


def test_a_regular_user_may_verify_or_get_only_their_own_sessions(sso, admin, alice):
    _, ust = alice
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.verify_session(CID, admin[1], ust, APP, ADDR)
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.get_session(CID, admin[1], ust, APP, ADDR)


def test_get_shows_a_sessions_details_and_names_an_unknown_one(sso, admin, alice):
    user, ust = alice
    shown = sso.user.get_session(CID, ust, admin[1], APP, ADDR)
    assert shown["user_id"] == user["user_id"] and shown["remote_addr"] == ADDR and shown["is_current"] is False
    assert sso.user.get_session(CID, ust, ust, APP, ADDR)["is_current"] is True
    sso.user.logout(CID, ust, APP, ADDR)
    with refused(Kind.not_found, Code.session_invalid) as info:
        sso.user.get_session(CID, ust, admin[1], APP, ADDR)
    assert "target_ust" in info.value.errors


def test_ending_one_of_my_sessions_by_its_id(sso, alice, login):
    user, ust = alice
    other = login("alice")
    [other_id] = [s["session_id"] for s in listed(sso, ust) if not s["is_current"]]
    sso.user.end_session(CID, other_id, ust, APP, ADDR, channel="web", user_agent="Firefox")
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, other)
    assert whoami(sso, ust) == "alice"
    [record] = audit_of(sso, user["user_id"], "end_session")
    assert record["changes"] == {"session": {"old": other_id, "new": None}} and record["channel"] == "web"
    with refused(Kind.not_found, Code.session_invalid):  # already ended
        sso.user.end_session(CID, other_id, ust, APP, ADDR)


def test_a_super_user_ends_anyones_session_and_a_regular_user_no_one_elses(sso, admin, alice):
    user, ust = alice
    [admins] = listed(sso, admin[1])
    with refused(Kind.not_found, Code.session_invalid):  # another user's session is as unknown as none
        sso.user.end_session(CID, admins["session_id"], ust, APP, ADDR)
    assert whoami(sso, admin[1]) == "admin"
    [alices] = listed(sso, admin[1], user["user_id"])
    sso.user.end_session(CID, alices["session_id"], admin[1], APP, ADDR)
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, ust)


@pytest.mark.parametrize(
    "bad, kind",
    [
        (None, Kind.invalid),
        (5, Kind.invalid),
        ("", Kind.not_found),
        ("zses\x00", Kind.not_found),
        ("x" * 5000, Kind.not_found),
    ],
)
def test_a_bad_session_id_is_refused_with_the_field_named(sso, alice, bad, kind):
    with pytest.raises(SSOError) as info:
        sso.user.end_session(CID, bad, alice[1], APP, ADDR)
    assert info.value.kind == kind and "session_id" in info.value.errors


def test_ending_all_my_sessions_keeps_the_current_one(sso, alice, login):
    user, ust = alice
    others = [login("alice") for _ in range(3)]
    assert sso.user.end_sessions(CID, None, ust, APP, ADDR) == 3
    for token in others:
        with refused(Kind.unauthenticated, Code.session_invalid):
            whoami(sso, token)
    assert whoami(sso, ust) == "alice"
    assert sso.user.end_sessions(CID, user["user_id"], ust, APP, ADDR) == 0
    assert len(audit_of(sso, user["user_id"], "end_sessions")) == 1  # ending none writes nothing


def test_a_super_user_ends_all_of_another_users_sessions(sso, admin, alice, login):
    user, _ust = alice
    login("alice")
    assert sso.user.end_sessions(CID, user["user_id"], admin[1], APP, ADDR) == 2
    assert session_rows(sso, user["user_id"]) == []
    [record] = audit_of(sso, user["user_id"], "end_sessions")
    assert record["actor_id"] == admin[0]["user_id"] and record["changes"] == {"sessions": {"old": 2, "new": 0}}


def test_ending_all_refuses_a_regular_user_naming_another_and_an_unknown_user(sso, admin, alice):
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.end_sessions(CID, admin[0]["user_id"], alice[1], APP, ADDR)
    with refused(Kind.not_found, Code.user_id_unknown):
        sso.user.end_sessions(CID, "zusrnobody", admin[1], APP, ADDR)
    assert whoami(sso, admin[1]) == "admin"


def test_the_last_use_time_is_written_only_when_it_moved_by_more_than_a_minute(sso, alice):
    user, ust = alice
    clock = frozen_clock(sso)
    started = session_rows(sso, user["user_id"])[0]["last_use_time"]
    clock(seconds=50)
    whoami(sso, ust)
    assert session_rows(sso, user["user_id"])[0]["last_use_time"] == started
    used = clock(seconds=20)
    whoami(sso, ust)
    assert session_rows(sso, user["user_id"])[0]["last_use_time"] == used
    clock(seconds=30)
    sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)
    assert session_rows(sso, user["user_id"])[0]["last_use_time"] == used
    later = clock(minutes=2)
    sso.user.update_current_user(CID, {"display_name": "B"}, ust, APP, ADDR)
    assert listed(sso, ust)[0]["last_use_time"].replace(tzinfo=None) == later


def test_renewing_counts_as_a_use_and_verifying_does_not(sso, admin, alice):
    user, ust = alice
    clock = frozen_clock(sso)
    started = session_rows(sso, user["user_id"])[0]["last_use_time"]
    clock(minutes=5)
    sso.user.verify_session(CID, ust, admin[1], APP, ADDR)
    sso.user.get_session(CID, ust, admin[1], APP, ADDR)
    assert session_rows(sso, user["user_id"])[0]["last_use_time"] == started
    renewed = clock(minutes=1)
    assert sso.user.renew(CID, ust, APP, ADDR) == renewed + timedelta(hours=1)
    assert session_rows(sso, user["user_id"])[0]["last_use_time"] == renewed
