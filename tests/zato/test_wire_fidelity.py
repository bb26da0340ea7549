"""SPEC §14 wire fidelity, as a Zato client meets it: datetimes, login's edge cases and metadata,
the extra output keys, create's extra keys (live gunicorn, SQLite)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from webapp.sso.kernel.tables import audit

from .client import random_data, random_username
from .conftest import start_zato

NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")


@pytest.fixture(scope="module")
def zato(request, tmp_path_factory):
    yield from start_zato(request, tmp_path_factory, SSO_LOGIN_METADATA_APPS="Console")


def test_datetimes_are_naive_utc_with_microseconds_only_when_not_zero(zato):
    created = zato.client.post(
        "/zato/sso/user", {"ust": zato.super_user_ust, "username": random_username(), "password": random_data()}
    )
    for name in ("sign_up_time", "password_last_set", "password_expiry"):
        assert NAIVE.match(getattr(created, name)), (name, getattr(created, name))
    zato.client.patch(
        "/zato/sso/user",
        {"ust": zato.super_user_ust, "user_id": created.user_id, "password_expiry": "2345-12-27T11:22:33"},
    )
    got = zato.client.get("/zato/sso/user", {"ust": zato.super_user_ust, "user_id": created.user_id})
    assert got.password_expiry == "2345-12-27T11:22:33"


def test_datetime_input_with_an_offset_is_converted_to_utc(zato):
    user_id, _, _ = zato.create_and_approve_user()
    zato.client.patch(
        "/zato/sso/user",
        {"ust": zato.super_user_ust, "user_id": user_id, "password_expiry": "2345-12-27T13:22:33.500000+02:00"},
    )
    got = zato.client.get("/zato/sso/user", {"ust": zato.super_user_ust, "user_id": user_id})
    assert got.password_expiry == "2345-12-27T11:22:33.500000"


@pytest.mark.parametrize("credentials", [{"username": ""}, {"username": None}, {"password": ""}, {"password": None}])
def test_an_empty_or_null_username_or_password_is_E005001_403(zato, credentials):
    request = {"username": zato.super_username, "password": random_data(), **credentials}
    answer = zato.client.post("/zato/sso/user/login", request, False)
    assert (answer.http.status_code, answer.status, answer.sub_status) == (403, "error", ["E005001"])
    assert "ust" not in answer


@pytest.mark.parametrize("missing", ["username", "password"])
def test_a_missing_username_or_password_is_400_with_zatos_result_and_details(zato, missing):
    request = {"username": zato.super_username, "password": "whatever"}
    del request[missing]
    answer = zato.client.post("/zato/sso/user/login", request, False)
    assert answer.http.status_code == 400
    assert (answer.result, answer.details) == ("Error", "Bad request")
    assert answer.cid and "ust" not in answer and missing in answer.errors


def test_login_metadata_from_an_untrusted_app_is_E006001(zato):
    _, username, password = zato.create_and_approve_user()
    answer = zato.client.post(
        "/zato/sso/user/login", {"username": username, "password": password, "remote_addr": "203.0.113.9"}, False
    )
    assert (answer.http.status_code, answer.sub_status) == (403, ["E006001"])


def test_login_metadata_from_a_trusted_app_is_kept_with_the_connecting_address(zato):
    user_id, username, password = zato.create_and_approve_user()
    zato.client.post(
        "/zato/sso/user/login",
        {
            "username": username,
            "password": password,
            "current_app": "Console",
            "remote_addr": "203.0.113.9",
            "user_agent": "EndUserBrowser/1",
        },
    )
    engine = zato.sso.ctx.engine
    with engine.connect() as conn:
        row = (
            conn.execute(select(audit).where(audit.c.target_id == user_id, audit.c.action == "login")).mappings().one()
        )
    assert row["remote_addr"] == "203.0.113.9 (via 127.0.0.1)"
    assert row["user_agent"] == "EndUserBrowser/1"


def test_create_answers_is_approval_needed_and_takes_zatos_extra_keys(zato):
    created = zato.client.post(
        "/zato/sso/user",
        {
            "ust": zato.super_user_ust,
            "username": random_username(),
            "email": "myemail@example.com",
            "is_rate_limit_active": True,
            "rate_limit_def": "*=1/d",
            "sign_up_status": "before_confirmation",
        },
    )
    assert created.is_approval_needed is True and created.approval_status == "before_decision"
    assert created.sign_up_status == "before_confirmation"
    approved = zato.client.post(
        "/zato/sso/user", {"ust": zato.super_user_ust, "username": random_username(), "auto_approve": True}
    )
    assert approved.is_approval_needed is False and approved.approval_status_mod_by == zato.super_user_id


def test_a_bad_rate_limit_definition_is_refused_at_create(zato):
    answer = zato.client.post(
        "/zato/sso/user",
        {"ust": zato.super_user_ust, "username": random_username(), "rate_limit_def": "CRM=lots"},
        False,
    )
    assert (answer.http.status_code, answer.sub_status) == (422, ["E008002"])
    assert "rate_limit_def" in answer.errors


def test_the_cli_made_super_user_was_approved_by_auto_and_a_regular_view_hides_zatos_super_user_keys(zato):
    me = zato.client.get("/zato/sso/user", {"ust": zato.super_user_ust})
    assert (me.approval_status, me.approval_status_mod_by, me.is_approval_needed) == ("approved", "auto", False)
    assert me.is_super_user is True
    _, username, password = zato.create_and_approve_user()
    mine = zato.client.get("/zato/sso/user", {"ust": zato.login(username, password)})
    for key in ("is_active", "is_approval_needed", "is_internal", "is_locked", "is_super_user"):
        assert key not in mine
    assert datetime.fromisoformat(me.sign_up_time).replace(tzinfo=UTC) <= datetime.now(UTC)
