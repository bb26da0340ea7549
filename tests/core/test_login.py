"""SPEC §5 login: who may log in, the password's state, the expiry warning and throttling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.sso import Code, Kind

from .helpers import ADDR, APP, CID, PASSWORD, audit_of, frozen_clock, refused, row_of, session_rows

NEW_PASSWORD = "Brand-New-Secret-42"


@pytest.fixture
def as_admin(sso, admin):
    _, ust = admin

    def update(user_id, data):
        return sso.user.update_user_by_id(CID, user_id, data, ust, APP, ADDR)

    return update


def log_in(sso, username, password=PASSWORD, addr=ADDR, **kw):
    return sso.user.login(CID, username, password, APP, addr, **kw)


def test_a_right_password_gives_a_ust_that_works(sso, make_user):
    user = make_user("bob")
    result = log_in(sso, "bob", user_agent="pytest")
    assert (result.status, result.sub_status, result.user_id) == ("ok", [], user["user_id"])
    assert sso.user.get_current_user(CID, result.ust, APP, ADDR)["username"] == "bob"
    assert audit_of(sso, user["user_id"], "login")[-1]["user_agent"] == "pytest"


def test_the_username_is_matched_case_insensitively(sso, make_user):
    make_user("Bob")
    assert log_in(sso, "bOB").status == "ok"


def test_a_wrong_username_and_a_wrong_password_look_the_same(sso, make_user):
    make_user("bob")
    with refused(Kind.forbidden, Code.auth_invalid) as wrong_password:
        log_in(sso, "bob", "Not-The-Password-1")
    with refused(Kind.forbidden, Code.auth_invalid) as wrong_username:
        log_in(sso, "nobody-here", PASSWORD)
    assert wrong_password.value.errors == wrong_username.value.errors == {}
    assert session_rows(sso) == []


def test_an_unconfigured_app_cannot_be_logged_into(sso, make_user):
    make_user("bob")
    with refused(Kind.forbidden, Code.app_not_allowed):
        sso.user.login(CID, "bob", PASSWORD, "NoSuchApp", ADDR)


def test_an_empty_or_null_username_or_password_is_a_wrong_credential_as_in_zato(sso):
    for username, password in (("", PASSWORD), ("bob", ""), (None, PASSWORD), ("bob", None), (5, PASSWORD)):
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.login(CID, username, password, APP, ADDR)


@pytest.mark.parametrize(
    "data",
    [
        {"approval_status": "rejected"},
        {"approval_status": "before_decision"},
        {"is_locked": True},
        {"sign_up_status": "before_confirmation"},
    ],
)
def test_a_user_who_may_not_log_in_gets_E005001_even_with_the_right_password(sso, make_user, as_admin, data):
    user = make_user("bob")
    as_admin(user["user_id"], data)
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        log_in(sso, "bob")
    assert info.value.errors == {}
    assert session_rows(sso, user["user_id"]) == []


def test_a_user_without_a_password_cannot_log_in(sso, make_user):
    make_user("bob", password=None)
    for password in (PASSWORD, "anything-at-all"):
        with refused(Kind.forbidden, Code.auth_invalid):
            log_in(sso, "bob", password)


def test_a_password_that_must_change_gives_E003007_until_a_new_one_is_sent(sso, make_user, as_admin):
    user = make_user("bob")
    as_admin(user["user_id"], {"password_must_change": True})
    with refused(Kind.forbidden, Code.password_must_change):
        log_in(sso, "bob")
    assert session_rows(sso, user["user_id"]) == []
    result = log_in(sso, "bob", new_password=NEW_PASSWORD)
    assert result.status == "ok"
    assert sso.user.get_current_user(CID, result.ust, APP, ADDR)["username"] == "bob"
    assert row_of(sso, user["user_id"])["password_must_change"] is False
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, "bob")
    assert log_in(sso, "bob", NEW_PASSWORD).status == "ok"


def test_an_expired_password_gives_E003004_until_a_new_one_is_sent(sso, make_user, as_admin):
    user = make_user("bob")
    clock = frozen_clock(sso)
    as_admin(user["user_id"], {"password_expiry": clock.now() - timedelta(minutes=1)})
    with refused(Kind.forbidden, Code.password_expired):
        log_in(sso, "bob")
    result = log_in(sso, "bob", new_password=NEW_PASSWORD)
    assert (result.status, result.sub_status) == ("ok", [])
    stored = row_of(sso, user["user_id"])
    assert stored["password_expiry"] == clock.now() + timedelta(days=730)
    assert stored["password_last_set"] == clock.now()
    assert log_in(sso, "bob", NEW_PASSWORD).status == "ok"


def test_the_wrong_password_with_a_new_one_changes_nothing(sso, make_user, as_admin):
    user = make_user("bob")
    as_admin(user["user_id"], {"password_must_change": True})
    before = row_of(sso, user["user_id"])
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, "bob", "Wrong-Password-1", new_password=NEW_PASSWORD)
    assert row_of(sso, user["user_id"]) == before


@pytest.mark.parametrize(
    "weak, code",
    [
        ("short1", Code.password_too_short),
        ("x" * 257, Code.password_too_long),
        ("my-Password-is-long", Code.password_rejected_word),
    ],
)
def test_a_weak_new_password_at_login_is_refused_and_changes_nothing(sso, make_user, as_admin, weak, code):
    user = make_user("bob")
    as_admin(user["user_id"], {"password_must_change": True})
    before = row_of(sso, user["user_id"])
    with refused(Kind.invalid, code):
        log_in(sso, "bob", new_password=weak)
    assert row_of(sso, user["user_id"]) == before
    assert session_rows(sso, user["user_id"]) == []


def test_a_password_expiring_within_30_days_logs_in_with_warning_W003005(sso, make_user, as_admin):
    user = make_user("bob")
    clock = frozen_clock(sso)
    as_admin(user["user_id"], {"password_expiry": clock.now() + timedelta(days=29)})
    result = log_in(sso, "bob")
    assert (result.status, result.sub_status) == ("warning", [Code.password_expiring])
    assert sso.user.get_current_user(CID, result.ust, APP, ADDR)["username"] == "bob"
    as_admin(user["user_id"], {"password_expiry": clock.now() + timedelta(days=31)})
    assert (log_in(sso, "bob").status, log_in(sso, "bob").sub_status) == ("ok", [])
    as_admin(user["user_id"], {"password_expiry": None})
    assert log_in(sso, "bob").status == "ok"


def test_a_session_lasts_the_configured_lifetime(sso, make_user):
    make_user("bob")
    clock = frozen_clock(sso)
    result = log_in(sso, "bob")
    assert result.expiration_time == clock.now() + timedelta(seconds=3600)


def test_a_new_password_at_login_is_audited_with_the_new_expiry_but_without_the_password(sso, make_user, as_admin):
    user = make_user("bob")
    as_admin(user["user_id"], {"password_must_change": True})
    clock = frozen_clock(sso)
    log_in(sso, "bob", new_password=NEW_PASSWORD)
    record = audit_of(sso, user["user_id"], "login")[-1]
    assert record["changes"]["password_must_change"] == {"old": True, "new": False}
    assert record["changes"]["password_expiry"]["new"] == (clock.now() + timedelta(days=730)).isoformat() + "+00:00"
    assert NEW_PASSWORD not in str(record) and PASSWORD not in str(record)
