"""SPEC §2 and §4: what a successful update writes, and what it leaves alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from webapp.sso import Code, Kind

from .helpers import ADDR, APP, CID, audit_of, frozen_clock, refused, row_of


@pytest.fixture
def as_alice(sso, alice):
    _, ust = alice

    def update(data, **kw):
        return sso.user.update_current_user(CID, data, ust, APP, ADDR, **kw)

    return update


def search_names(sso, admin_ust, **criteria) -> list[str]:
    found = sso.user.search(CID, criteria, admin_ust, APP, ADDR)["result"]
    return [user["username"] for user in found]


def test_an_absent_key_leaves_its_attribute_unchanged(sso, alice, as_alice):
    user, _ = alice
    as_alice({"first_name": "Alice", "last_name": "Liddell", "email": "alice@example.com"})
    as_alice({"last_name": "Pleasance"})
    stored = row_of(sso, user["user_id"])
    assert (stored["first_name"], stored["last_name"], stored["email"]) == ("Alice", "Pleasance", "alice@example.com")


def test_none_sets_the_column_to_null_and_clears_its_search_column(sso, alice, as_alice):
    user, _ = alice
    as_alice({"display_name": "Alice L.", "email": "alice@example.com"})
    shown = as_alice({"display_name": None, "email": None})
    stored = row_of(sso, user["user_id"])
    assert stored["display_name"] is None and stored["display_name_search"] is None
    assert stored["email"] is None and stored["email_search"] is None
    assert shown["display_name"] is None and shown["email"] is None


def test_an_empty_string_stays_an_empty_string_and_is_not_null(sso, alice, as_alice):
    user, _ = alice
    as_alice({"display_name": "", "first_name": ""})
    stored = row_of(sso, user["user_id"])
    assert stored["display_name"] == "" and stored["first_name"] == ""
    assert sso.user.get_current_user(CID, alice[1], APP, ADDR)["display_name"] == ""
    version = stored["version"]
    as_alice({"display_name": None})
    as_alice({"display_name": ""})
    stored = row_of(sso, user["user_id"])
    assert stored["display_name"] == "" and stored["version"] == version + 2
    changes = [record["changes"]["display_name"] for record in audit_of(sso, user["user_id"], "update")[-2:]]
    assert changes == [{"old": "", "new": None}, {"old": None, "new": ""}]


def test_a_no_op_update_writes_nothing_and_answers_with_the_user(sso, alice, as_alice, unchanged):
    user, _ = alice
    as_alice({"display_name": "Alice", "email": None})
    nothing_written = unchanged(user["user_id"])
    shown = as_alice({"display_name": "Alice", "email": None, "username": "alice"})
    assert shown["display_name"] == "Alice" and shown["user_id"] == user["user_id"]
    nothing_written()


def test_only_the_attributes_that_really_change_are_audited(sso, alice, as_alice):
    user, _ = alice
    as_alice({"display_name": "Alice"})
    as_alice({"display_name": "Alice", "first_name": "Alice"})
    assert audit_of(sso, user["user_id"], "update")[-1]["changes"] == {"first_name": {"old": None, "new": "Alice"}}


def test_the_version_goes_up_by_one_per_changing_update(sso, alice, as_admin, as_alice):
    user, _ = alice
    start = row_of(sso, user["user_id"])["version"]
    assert as_alice({"first_name": "A"}).version == start + 1
    as_admin(user["user_id"], {"first_name": "B", "last_name": "C", "is_locked": False})
    assert row_of(sso, user["user_id"])["version"] == start + 2
    as_admin(user["user_id"], {"first_name": "B"})
    assert row_of(sso, user["user_id"])["version"] == start + 2
    assert as_admin(user["user_id"], {"first_name": "D"})["version"] == start + 3


def test_each_update_writes_one_audit_record_with_its_context(sso, admin, alice, as_admin):
    admin_user, admin_ust = admin
    user, _ = alice
    clock = frozen_clock(sso)
    sso.user.update_user_by_id(
        "cid-42",
        user["user_id"],
        {"first_name": "Alice", "is_locked": True},
        admin_ust,
        "Console",
        "10.1.2.3",
        channel="api",
        user_agent="curl/8",
    )
    records = audit_of(sso, user["user_id"], "update")
    assert len(records) == 1
    record = records[0]
    assert {
        key: record[key]
        for key in ("time", "cid", "actor_id", "target_id", "channel", "current_app", "remote_addr", "user_agent")
    } == {
        "time": clock.now(),
        "cid": "cid-42",
        "actor_id": admin_user["user_id"],
        "target_id": user["user_id"],
        "channel": "api",
        "current_app": "Console",
        "remote_addr": "10.1.2.3",
        "user_agent": "curl/8",
    }
    assert record["changes"] == {"first_name": {"old": None, "new": "Alice"}, "is_locked": {"old": False, "new": True}}


def test_the_python_api_is_the_default_audit_channel(sso, alice, as_alice):
    user, _ = alice
    as_alice({"first_name": "Alice"})
    assert audit_of(sso, user["user_id"], "update")[-1]["channel"] == "python"


def test_locking_records_who_and_when_and_unlocking_clears_both(sso, admin, alice, as_admin):
    admin_user, _ = admin
    user, _ = alice
    clock = frozen_clock(sso)
    locked_at = clock.now()
    shown = as_admin(user["user_id"], {"is_locked": True})
    stored = row_of(sso, user["user_id"])
    assert (stored["is_locked"], stored["locked_time"], stored["locked_by"]) == (True, locked_at, admin_user["user_id"])
    assert shown["locked_time"] == locked_at.replace(tzinfo=UTC)
    clock(minutes=5)
    as_admin(user["user_id"], {"is_locked": True})
    assert row_of(sso, user["user_id"])["locked_time"] == locked_at
    as_admin(user["user_id"], {"is_locked": False})
    stored = row_of(sso, user["user_id"])
    assert (stored["is_locked"], stored["locked_time"], stored["locked_by"]) == (False, None, None)


def test_an_approval_change_stamps_when_and_by_whom_but_an_unchanged_one_does_not(sso, admin, alice, as_admin):
    admin_user, _ = admin
    user, _ = alice
    clock = frozen_clock(sso)
    before = row_of(sso, user["user_id"])
    as_admin(user["user_id"], {"approval_status": "approved"})
    assert row_of(sso, user["user_id"])["approval_status_mod_time"] == before["approval_status_mod_time"]
    decided_at = clock(minutes=1)
    as_admin(user["user_id"], {"approval_status": "rejected"})
    stored = row_of(sso, user["user_id"])
    assert (stored["approval_status_mod_time"], stored["approval_status_mod_by"]) == (decided_at, admin_user["user_id"])


def test_naive_datetimes_are_utc_and_aware_ones_are_converted(sso, alice, as_admin):
    user, _ = alice
    expected = datetime(2031, 1, 2, 3, 4, 5, 600000)
    for given in (
        expected,
        datetime(2031, 1, 2, 5, 4, 5, 600000, tzinfo=timezone(timedelta(hours=2))),
        datetime(2031, 1, 1, 22, 4, 5, 600000, tzinfo=timezone(timedelta(hours=-5))),
        "2031-01-02T03:04:05.600000",
        "2031-01-02T03:04:05.6Z",
        "2031-01-02T05:04:05.600+02:00",
    ):
        as_admin(user["user_id"], {"password_expiry": None})
        shown = as_admin(user["user_id"], {"password_expiry": given})
        assert row_of(sso, user["user_id"])["password_expiry"] == expected, given
        assert shown["password_expiry"] == expected.replace(tzinfo=UTC), given


def test_the_same_instant_in_another_zone_is_not_a_change(sso, alice, as_admin, unchanged):
    user, _ = alice
    as_admin(user["user_id"], {"password_expiry": datetime(2031, 1, 2, 3, 4, 5)})
    nothing_written = unchanged(user["user_id"])
    as_admin(user["user_id"], {"password_expiry": "2031-01-02T04:04:05+01:00"})
    nothing_written()


def test_name_search_follows_a_change_and_a_clear(sso, admin, alice, as_alice):
    _, admin_ust = admin
    as_alice({"first_name": "Zoë", "last_name": "STRASSE"})
    assert search_names(sso, admin_ust, first_name="ZOË") == ["alice"]
    assert search_names(sso, admin_ust, last_name="Straße") == ["alice"]
    assert search_names(sso, admin_ust, last_name="rass", is_name_exact=False) == ["alice"]
    as_alice({"first_name": "Yolanda"})
    assert search_names(sso, admin_ust, first_name="zoë") == []
    assert search_names(sso, admin_ust, first_name="yolanda") == ["alice"]
    assert search_names(sso, admin_ust, first_name="LAND", is_name_exact=False) == ["alice"]
    as_alice({"first_name": None})
    assert search_names(sso, admin_ust, first_name="yolanda") == []
    assert search_names(sso, admin_ust, first_name="yol", is_name_exact=False) == []


def test_username_and_email_search_follow_a_change_and_a_clear(sso, admin, alice, as_alice):
    _, admin_ust = admin
    as_alice({"username": "Alice.L", "email": "Alice@Example.com"})
    assert search_names(sso, admin_ust, username="alice") == []
    assert search_names(sso, admin_ust, username="ALICE.l") == ["Alice.L"]
    assert search_names(sso, admin_ust, email="alice@example.COM") == ["Alice.L"]
    as_alice({"email": None})
    assert search_names(sso, admin_ust, email="alice@example.com") == []


def test_two_people_changing_different_fields_keep_both_changes(sso, alice, as_admin, as_alice):
    user, _ = alice
    version = row_of(sso, user["user_id"])["version"]
    as_admin(user["user_id"], {"last_name": "Liddell"})
    with refused(Kind.precondition, Code.version_conflict):
        as_alice({"first_name": "Alice"}, expected_version=version)
    as_alice({"first_name": "Alice"})
    stored = row_of(sso, user["user_id"])
    assert (stored["first_name"], stored["last_name"]) == ("Alice", "Liddell")


def test_nothing_is_written_by_any_refused_update(sso, admin, alice, as_admin, as_alice, unchanged):
    admin_user, _ = admin
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    admin_unchanged = unchanged(admin_user["user_id"])
    attempts = [
        lambda: as_alice({}),
        lambda: as_alice({"first_name": "A", "version": 9}),
        lambda: sso.user.update_current_user(CID, {"first_name": "A"}, ust + "x", APP, ADDR),
        lambda: sso.user.update_current_user(CID, {"first_name": "A"}, ust, "Nope", ADDR),
        lambda: sso.user.update_user_by_id(CID, admin_user["user_id"], {"first_name": "A"}, ust, APP, ADDR),
        lambda: as_alice({"first_name": "A", "approval_status": "approved"}),
        lambda: as_admin("zusrnobody", {"first_name": "A"}),
        lambda: as_admin(user["user_id"], {"first_name": "A", "email": "bad"}),
        lambda: as_admin(user["user_id"], {"first_name": "A", "username": "Admin"}),
        lambda: as_admin(user["user_id"], {"first_name": "A"}, expected_version=0),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as info:
            attempt()
        assert type(info.value).__name__ == "SSOError"
    nothing_written()
    admin_unchanged()


def test_a_regular_user_sees_only_their_editable_attributes_and_nobody_sees_a_secret(sso, admin, alice, as_alice):
    from webapp.sso.kernel.attributes import READ_ONLY, READABLE, SELF_READABLE

    user, ust = alice
    own = as_alice({"first_name": "Alice"})
    # `required_actions` (SPEC §19): what the person must do first, shown to them and to administrators
    assert set(own) == {"user_id", *SELF_READABLE, "required_actions"}
    assert set(sso.user.get_current_user(CID, ust, APP, ADDR)) == {"user_id", *SELF_READABLE, "required_actions"}
    full = sso.user.get_user_by_id(CID, user["user_id"], admin[1], APP, ADDR)
    assert set(full) == {*READABLE, *READ_ONLY, "required_actions"}
    assert full["version"] == own.version == row_of(sso, user["user_id"])["version"]
    for shown in (own, full):
        assert not any("hash" in key or key == "password" or key == "totp_key" for key in shown)
