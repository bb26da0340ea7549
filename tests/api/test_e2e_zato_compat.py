"""Zato client habits, and each deliberate difference from Zato (end of SPEC §6), over real HTTP
against gunicorn on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

from ..conftest import PASSWORD
from .conftest import APP, unique
from .helpers import ok, refused

# --- how Zato clients call ------------------------------------------------------------------------------


def test_a_get_with_a_json_body_and_no_content_type_is_understood(site):
    user, ust = site.new_user()
    response = site.api.http.request(
        "GET", site.api.base_url + "/zato/sso/user", data=json.dumps({"ust": ust, "current_app": APP}).encode()
    )
    assert "Content-Type" not in response.request.headers
    assert ok(response)["user_id"] == user["user_id"]


def test_the_body_is_read_as_json_whatever_the_content_type_says(site):
    _, ust = site.new_user()
    body = json.dumps({"ust": ust, "current_app": APP, "display_name": "typed"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8"):
        assert (
            ok(site.api.call("PATCH", "user", raw=body, headers={"Content-Type": content_type}))["display_name"]
            == "typed"
        )


def test_the_ust_may_come_in_a_bearer_header_and_both_ways_must_agree(site):
    _, ust = site.new_user()
    _, other_ust = site.new_user()
    ok(site.api.call("GET", "user", {"current_app": APP}, ust=ust))
    ok(site.api.call("GET", "user", {"ust": ust, "current_app": APP}, ust=ust))
    body = refused(site.api.call("GET", "user", {"ust": other_ust, "current_app": APP}, ust=ust), 400, "E008002")
    assert "ust" in body["errors"]


def test_every_answer_carries_a_fresh_cid(site):
    _, ust = site.new_user()
    first = ok(site.api.call("GET", "user", {"ust": ust, "current_app": APP}))
    second = refused(site.api.call("GET", "user", {"ust": "bad", "current_app": APP}), 401, "E007001")
    assert first["cid"] != second["cid"]


def test_errors_keep_zatos_status_and_sub_status_while_http_says_the_kind(site):
    _, ust = site.new_user()
    body = refused(
        site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "is_super_user": True}), 422, "E008002"
    )
    assert body["errors"] == {"is_super_user": "is read-only"}


def test_query_values_are_typed_as_json_and_a_quoted_one_stays_text(site):
    surname = unique("123")
    site.new_user(login=False, last_name="42")
    refused(
        site.api.call("GET", "user/search", ust=site.admin_ust, params={"current_app": APP, "last_name": "42"}),
        422,
        "E008002",
    )
    assert (
        ok(site.api.call("GET", "user/search", ust=site.admin_ust, params={"current_app": APP, "last_name": '"42"'}))[
            "total"
        ]
        >= 1
    )
    assert (
        ok(
            site.api.call(
                "GET",
                "user/search",
                ust=site.admin_ust,
                params={"current_app": APP, "last_name": surname, "paginate": "false"},
            )
        )["total"]
        == 0
    )


def test_query_parameters_that_are_repeated_clash_with_the_body_or_carry_the_ust_are_400(site):
    _, ust = site.new_user()
    refused(site.api.call("GET", "user", ust=ust, params=[("current_app", APP), ("current_app", APP)]), 400, "E008002")
    refused(
        site.api.call("GET", "user", {"current_app": "Console"}, ust=ust, params={"current_app": APP}), 400, "E008002"
    )
    refused(site.api.call("GET", "user", params={"current_app": APP, "ust": ust}), 400, "E008002")
    refused(
        site.api.call(
            "PATCH", "user", {"current_app": APP, "display_name": "x"}, ust=ust, params={"user_id": "zusrsomeoneelse"}
        ),
        400,
        "E008002",
    )


# --- deliberate differences from Zato --------------------------------------------------------------------------


def test_unknown_keys_are_rejected_not_dropped_and_nothing_is_written(site):
    user, ust = site.new_user()
    refused(
        site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "display_name": "x", "nick": "y"}),
        422,
        "E008002",
    )
    assert site.get(user["user_id"])["display_name"] is None


def test_json_null_on_a_boolean_is_an_error_not_false(site):
    user, _ = site.new_user(is_locked=True, login=False)
    body = refused(
        site.api.call(
            "PATCH", "user", {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"], "is_locked": None}
        ),
        422,
        "E008002",
    )
    assert set(body["errors"]) == {"is_locked"}
    assert site.get(user["user_id"])["is_locked"] is True


def test_a_bad_datetime_is_E008002_not_a_server_error(site):
    user, _ = site.new_user(login=False)
    for value in ("2030-13-45T00:00:00", "soon", "9999-12-31T23:59:59-23:59", 1700000000):
        refused(
            site.api.call(
                "PATCH",
                "user",
                {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"], "password_expiry": value},
            ),
            422,
            "E008002",
        )


def test_a_user_id_matching_no_user_is_E001100_not_a_silent_no_op(site):
    refused(
        site.api.call(
            "PATCH", "user", {"ust": site.admin_ust, "current_app": APP, "user_id": "zusrmissing", "display_name": "x"}
        ),
        404,
        "E001100",
    )


def test_clearing_a_name_keeps_search_right(site):
    name = unique("Clearable")
    _user, ust = site.new_user(last_name=name)

    def found() -> int:
        return ok(
            site.api.call("GET", "user/search", {"ust": site.admin_ust, "current_app": APP, "last_name": name.upper()})
        )["total"]

    assert found() == 1
    ok(site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "last_name": None}))
    assert found() == 0
    ok(site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "last_name": name}))
    assert found() == 1


def test_locking_records_who_and_when_and_unlocking_clears_both(site):
    user, _ = site.new_user(login=False)
    call = {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"]}
    locked = ok(site.api.call("PATCH", "user", {**call, "is_locked": True}))
    assert locked["locked_by"] == site.admin["user_id"] and locked["locked_time"]
    unlocked = ok(site.api.call("PATCH", "user", {**call, "is_locked": False}))
    assert unlocked["locked_by"] is None and unlocked["locked_time"] is None


def test_the_update_answers_with_the_updated_user(site):
    _, ust = site.new_user()
    body = ok(site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "middle_name": "Q"}))
    assert body["middle_name"] == "Q" and "user_id" in body


def test_an_expired_password_is_E003004_to_whoever_typed_it_right_and_can_be_replaced_at_login(site):
    user, _ = site.new_user(login=False)
    site.expire_password(user["user_id"], days_from_now=-1)
    login = {"username": user["username"], "password": PASSWORD, "current_app": APP}
    refused(site.api.call("POST", "user/login", login), 403, "E003004")
    refused(site.api.call("POST", "user/login", {**login, "password": "Wrong-Pass-1"}), 403, "E005001")
    body = ok(site.api.call("POST", "user/login", {**login, "new_password": "Renewed-Gate-55"}))
    ok(site.api.call("GET", "user", {"ust": body["ust"], "current_app": APP}))
