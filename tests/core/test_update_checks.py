"""SPEC §4: the update's checks, one test per rule and code, in the order they run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.sso import Code, Kind
from webapp.sso.kernel.attributes import READ_ONLY

from .helpers import ADDR, APP, CID, PASSWORD, audit_of, frozen_clock, refused, row_of

SUPER_ONLY = {
    "is_locked": False,
    "password_expiry": None,
    "password_must_change": False,
    "sign_up_status": "final",
    "approval_status": "approved",
}


# --- step 1 -------------------------------------------------------------------------------------------


def test_an_empty_update_is_refused_with_E008003_before_the_ust_is_even_looked_at(sso, alice, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    with refused(Kind.invalid, Code.no_data):
        sso.user.update_current_user(CID, {}, ust, APP, ADDR)
    with refused(Kind.invalid, Code.no_data):
        sso.user.update_user_by_id(CID, user["user_id"], {}, "not-a-ust", "NoSuchApp", ADDR)
    nothing_written()


# --- step 2 -------------------------------------------------------------------------------------------


def test_unknown_read_only_and_password_keys_are_all_reported_at_once(sso, alice, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    bad = {"nickname": "x", "password": "New-Secret-77", "new_password": "x", **dict.fromkeys(READ_ONLY)}
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {**bad, "display_name": "Alice"}, ust, APP, ADDR)
    assert set(info.value.errors) == set(bad)
    assert "change-password" in info.value.errors["password"]
    assert "read-only" in info.value.errors["is_super_user"]
    nothing_written()


def test_an_unknown_key_is_reported_before_the_ust_is_checked(sso):
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {"favourite_colour": "blue"}, "not-a-ust", APP, ADDR)
    assert list(info.value.errors) == ["favourite_colour"]


# --- step 3: the session --------------------------------------------------------------------------------


def test_an_unknown_or_malformed_ust_is_refused_with_E007001(sso, alice):
    for ust in ("gAAAAABnot-a-real-token", "", None, 42, "x" * 5000):
        with refused(Kind.unauthenticated, Code.session_invalid):
            sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)


def test_a_tampered_ust_is_refused_with_E007001(sso, alice):
    user, ust = alice
    middle = len(ust) // 2
    tampered = ust[:middle] + ("A" if ust[middle] != "A" else "B") + ust[middle + 1 :]
    for bad in (tampered, ust[:-4], ust + "AAAA"):
        with refused(Kind.unauthenticated, Code.session_invalid):
            sso.user.update_current_user(CID, {"display_name": "A"}, bad, APP, ADDR)
    assert row_of(sso, user["user_id"])["display_name"] is None


def test_an_expired_ust_is_refused_with_E007001(sso, alice):
    _, ust = alice
    clock = frozen_clock(sso)
    clock(seconds=sso.ctx.settings["SSO_SESSION_TTL"] + 1)
    with refused(Kind.unauthenticated, Code.session_invalid):
        sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)


def test_a_logged_out_ust_is_refused_with_E007001(sso, alice):
    _, ust = alice
    sso.user.logout(CID, ust, APP, ADDR)
    with refused(Kind.unauthenticated, Code.session_invalid):
        sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)


@pytest.mark.parametrize("status", ["rejected", "before_decision"])
def test_a_user_no_longer_approved_is_refused_with_E007001_until_approved_again(sso, alice, as_admin, status):
    user, ust = alice
    as_admin(user["user_id"], {"approval_status": status})
    with refused(Kind.unauthenticated, Code.session_invalid):
        sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)
    as_admin(user["user_id"], {"approval_status": "approved"})
    assert sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)["display_name"] == "A"


def test_an_unconfigured_app_is_refused_with_E004001_after_the_ust_check(sso, alice, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    for app_name in ("NoSuchApp", "crm", None, ""):
        with refused(Kind.forbidden, Code.app_not_allowed):
            sso.user.update_current_user(CID, {"display_name": "A"}, ust, app_name, ADDR)
    with refused(Kind.unauthenticated, Code.session_invalid):
        sso.user.update_current_user(CID, {"display_name": "A"}, "not-a-ust", "NoSuchApp", ADDR)
    nothing_written()


def test_a_locked_caller_is_refused_with_E005002_and_after_unlocking_must_log_in_again(sso, alice, as_admin, login):
    user, ust = alice
    as_admin(user["user_id"], {"is_locked": True})
    with refused(Kind.forbidden, Code.user_locked):
        sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)
    with refused(Kind.forbidden, Code.user_locked):
        sso.user.get_current_user(CID, ust, APP, ADDR)
    as_admin(user["user_id"], {"is_locked": False})
    with refused(Kind.unauthenticated, Code.session_invalid):  # SPEC §9: a lock ends the sessions for good
        sso.user.get_current_user(CID, ust, APP, ADDR)
    assert sso.user.update_current_user(CID, {"display_name": "A"}, login("alice"), APP, ADDR)["display_name"] == "A"


def test_a_caller_whose_sign_up_is_not_final_is_refused_with_E005003_until_it_is(sso, alice, as_admin):
    user, ust = alice
    as_admin(user["user_id"], {"sign_up_status": "before_confirmation"})
    with refused(Kind.forbidden, Code.sign_up_not_final):
        sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)
    as_admin(user["user_id"], {"sign_up_status": "final"})
    assert sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)["display_name"] == "A"


def test_a_caller_whose_password_expired_is_refused_with_E005001_until_it_is_extended(sso, alice, as_admin):
    user, ust = alice
    clock = frozen_clock(sso)
    as_admin(user["user_id"], {"password_expiry": clock.now() - timedelta(seconds=1)})
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)
    as_admin(user["user_id"], {"password_expiry": clock.now() + timedelta(days=1)})
    assert sso.user.update_current_user(CID, {"display_name": "A"}, ust, APP, ADDR)["display_name"] == "A"


def test_a_locked_caller_is_refused_before_their_forbidden_keys_are_looked_at(sso, alice, as_admin):
    user, ust = alice
    as_admin(user["user_id"], {"is_locked": True})
    with refused(Kind.forbidden, Code.user_locked):
        sso.user.update_current_user(CID, {"is_locked": False}, ust, APP, ADDR)
    assert row_of(sso, user["user_id"])["is_locked"] is True


# --- step 4: whose account -------------------------------------------------------------------------------


def test_a_regular_user_naming_another_users_id_is_forbidden(sso, admin, alice, unchanged):
    admin_user, _ = admin
    _user, ust = alice
    nothing_written = unchanged(admin_user["user_id"])
    for target in (admin_user["user_id"], "zusrnosuchuserexists"):
        with refused(Kind.forbidden, Code.invalid_input) as info:
            sso.user.update_user_by_id(CID, target, {"display_name": "Hacked"}, ust, APP, ADDR)
        assert list(info.value.errors) == ["user_id"]
    nothing_written()


def test_a_regular_user_may_name_their_own_id(sso, alice):
    user, ust = alice
    shown = sso.user.update_user_by_id(CID, user["user_id"], {"display_name": "Alice"}, ust, APP, ADDR)
    assert shown["display_name"] == "Alice"
    assert row_of(sso, user["user_id"])["display_name"] == "Alice"


# --- step 5: the caller's role --------------------------------------------------------------------------


def test_a_regular_user_sending_super_user_keys_is_forbidden_and_every_key_is_named(sso, alice, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    with refused(Kind.forbidden, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {**SUPER_ONLY, "display_name": "Alice"}, ust, APP, ADDR)
    assert set(info.value.errors) == set(SUPER_ONLY)
    nothing_written()


def test_a_forbidden_key_beside_an_allowed_one_writes_neither(sso, alice, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    with refused(Kind.forbidden, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {"first_name": "Alice", "is_locked": True}, ust, APP, ADDR)
    assert list(info.value.errors) == ["is_locked"]
    nothing_written()


def test_a_forbidden_key_with_a_bad_value_is_reported_as_forbidden_not_invalid(sso, alice):
    _, ust = alice
    with refused(Kind.forbidden, Code.invalid_input):
        sso.user.update_current_user(CID, {"is_locked": "yes"}, ust, APP, ADDR)


def test_a_super_user_may_write_every_attribute_of_another_user(sso, alice, as_admin):
    user, _ = alice
    data = {
        "username": "alice2",
        "email": "a@example.com",
        "display_name": "A",
        "first_name": "F",
        "middle_name": "M",
        "last_name": "L",
        **SUPER_ONLY,
        "password_must_change": True,
    }
    shown = as_admin(user["user_id"], data)
    assert {name: shown[name] for name in data} == data


# --- step 6: the target ----------------------------------------------------------------------------------


def test_a_user_id_that_matches_no_user_is_E001100_even_with_bad_values(sso, as_admin):
    for user_id in ("zusrnosuchuserexists", "", 42):
        with refused(Kind.not_found, Code.user_id_unknown):
            as_admin(user_id, {"display_name": "x"})
    with refused(Kind.not_found, Code.user_id_unknown):
        as_admin("zusrnosuchuserexists", {"email": "not an email"})


# --- step 7: uniqueness (the value checks are in test_update_values.py) --------------------------------


def test_a_username_taken_by_another_user_in_any_case_is_E001002(sso, admin, alice, as_admin, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    for name in ("admin", "ADMIN", "Admin"):
        with refused(Kind.conflict, Code.username_exists) as info:
            sso.user.update_current_user(CID, {"username": name}, ust, APP, ADDR)
        assert list(info.value.errors) == ["username"]
        with refused(Kind.conflict, Code.username_exists):
            as_admin(user["user_id"], {"username": name})
    nothing_written()


def test_a_user_may_change_the_case_of_their_own_username(sso, alice):
    user, ust = alice
    assert sso.user.update_current_user(CID, {"username": "ALICE"}, ust, APP, ADDR)["username"] == "ALICE"
    assert row_of(sso, user["user_id"])["username"] == "ALICE"


def test_bad_values_are_reported_before_a_taken_username(sso, admin, alice):
    _, ust = alice
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {"username": "admin", "email": "nope"}, ust, APP, ADDR)
    assert list(info.value.errors) == ["email"]


# --- step 8: the expected version ----------------------------------------------------------------------


def test_a_stale_expected_version_is_E011001_and_writes_nothing(sso, alice, as_admin, unchanged):
    user, ust = alice
    version = row_of(sso, user["user_id"])["version"]
    as_admin(user["user_id"], {"first_name": "Alicia"})
    nothing_written = unchanged(user["user_id"])
    with refused(Kind.precondition, Code.version_conflict):
        sso.user.update_current_user(CID, {"last_name": "Smith"}, ust, APP, ADDR, expected_version=version)
    with refused(Kind.precondition, Code.version_conflict):
        as_admin(user["user_id"], {"last_name": "Smith"}, expected_version=version)
    nothing_written()
    shown = sso.user.update_current_user(CID, {"last_name": "Smith"}, ust, APP, ADDR, expected_version=version + 1)
    assert shown["last_name"] == "Smith"
    assert row_of(sso, user["user_id"])["version"] == version + 2


def test_bad_values_are_reported_before_a_stale_version(sso, alice):
    _, ust = alice
    with refused(Kind.invalid, Code.invalid_input):
        sso.user.update_current_user(CID, {"email": "nope"}, ust, APP, ADDR, expected_version=999)


def test_two_writers_racing_with_the_same_expected_version_cannot_both_win(sso, alice, as_admin):
    import threading

    user, ust = alice
    version = row_of(sso, user["user_id"])["version"]
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def write(data, by_admin):
        start.wait()
        try:
            if by_admin:
                as_admin(user["user_id"], data, expected_version=version)
            else:
                sso.user.update_current_user(CID, data, ust, APP, ADDR, expected_version=version)
            outcomes.append("ok")
        except Exception as e:
            outcomes.append(getattr(e, "sub_status", [repr(e)])[0])

    threads = [
        threading.Thread(target=write, args=({"first_name": "Admin's"}, True)),
        threading.Thread(target=write, args=({"last_name": "Alice's"}, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["E011001", "ok"]
    assert row_of(sso, user["user_id"])["version"] == version + 1
    assert len(audit_of(sso, user["user_id"], "update")) == 1


def test_two_users_racing_for_the_same_new_username_cannot_both_get_it(sso, make_user, login):
    import threading

    make_user("bob"), make_user("carol")
    usts = {name: login(name) for name in ("bob", "carol")}
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def rename(ust):
        start.wait()
        try:
            sso.user.update_current_user(CID, {"username": "Winner"}, ust, APP, ADDR)
            outcomes.append("ok")
        except Exception as e:
            outcomes.append(getattr(e, "sub_status", [repr(e)])[0])

    threads = [threading.Thread(target=rename, args=(ust,)) for ust in usts.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["E001002", "ok"]


def _save_by_someone_else_after_my_read(sso, make_app, user_id, data):
    """Arrange for another app (another server) to save `data` right after this app's next read."""
    from sqlalchemy import event

    other = make_app().extensions["sso"]
    other_ust = other.user.login(CID, "admin", PASSWORD, APP, ADDR).ust
    done: list[bool] = []

    def interfere(conn, cursor, statement, *_):
        if not done and statement.lstrip().upper().startswith("SELECT") and "sso_session" in statement:
            done.append(True)
            other.user.update_user_by_id(CID, user_id, data, other_ust, APP, ADDR)

    event.listen(sso.ctx.engine, "after_cursor_execute", interfere)
    return done


def test_a_save_that_loses_a_race_without_expected_version_is_applied_on_the_fresh_row(sso, make_app, admin, alice):
    user, ust = alice
    version = row_of(sso, user["user_id"])["version"]
    interfered = _save_by_someone_else_after_my_read(sso, make_app, user["user_id"], {"first_name": "Theirs"})

    shown = sso.user.update_current_user(CID, {"display_name": "Mine"}, ust, APP, ADDR)

    assert interfered
    row = row_of(sso, user["user_id"])
    assert (row["display_name"], row["first_name"], row["version"]) == ("Mine", "Theirs", version + 2)
    assert shown["display_name"] == "Mine" and shown["first_name"] == "Theirs"
    assert [sorted(r["changes"]) for r in audit_of(sso, user["user_id"], "update")] == [
        ["first_name"],
        ["display_name"],
    ]


def test_a_save_that_loses_a_race_with_expected_version_is_E011001_and_writes_nothing_of_its_own(
    sso, make_app, admin, alice
):
    user, ust = alice
    version = row_of(sso, user["user_id"])["version"]
    _save_by_someone_else_after_my_read(sso, make_app, user["user_id"], {"first_name": "Theirs"})

    with refused(Kind.precondition, Code.version_conflict):
        sso.user.update_current_user(CID, {"display_name": "Mine"}, ust, APP, ADDR, expected_version=version)

    row = row_of(sso, user["user_id"])
    assert (row["display_name"], row["first_name"], row["version"]) == (None, "Theirs", version + 1)
