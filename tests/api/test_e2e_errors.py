"""Every error code of SPEC §4 as the API answers it over HTTP (status, sub_status, nothing written),
and the API's own refusals (400, 404, 405, 413), against gunicorn on SQLite and on PostgreSQL."""

from __future__ import annotations

from ..conftest import PASSWORD
from .conftest import APP, unique
from .helpers import ok, refused


def _patch(site, ust, **data):
    return site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, **data})


# --- SPEC §4, in check order -------------------------------------------------------------------------


def test_an_update_with_no_attributes_is_E008003_422(site):
    _, ust = site.new_user()
    body = refused(_patch(site, ust), 422, "E008003")
    assert "data" in body["errors"]


def test_an_unknown_or_read_only_key_is_E008002_422_with_a_message_per_key(site):
    user, ust = site.new_user()
    body = refused(_patch(site, ust, nickname="x", version=9, password="Whatever-1234"), 422, "E008002")
    assert set(body["errors"]) == {"nickname", "version", "password"}
    assert site.get(user["user_id"])["version"] == 1


def test_an_unknown_ust_is_E007001_401_with_a_bearer_challenge(site):
    response = _patch(site, "gAAAAA-forged", display_name="x")
    refused(response, 401, "E007001")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_ust_is_E007001_401(site):
    refused(site.api.call("GET", "user", {"current_app": APP}), 401, "E007001")


def test_an_app_that_is_not_configured_is_E004001_403(site):
    _, ust = site.new_user()
    refused(site.api.call("GET", "user", {"ust": ust, "current_app": "Nope"}), 403, "E004001")


def test_a_locked_caller_is_E005002_403_and_after_unlocking_logs_in_again(site):
    user, ust = site.new_user()
    site.set(user["user_id"], is_locked=True)
    refused(_patch(site, ust, display_name="x"), 403, "E005002")
    site.set(user["user_id"], is_locked=False)
    refused(_patch(site, ust, display_name="x"), 401, "E007001")  # SPEC §9: the lock ended the session
    ok(_patch(site, site.login(user["username"]), display_name="x"))


def test_a_caller_whose_sign_up_is_not_final_is_E005003_403(site):
    user, ust = site.new_user()
    site.set(user["user_id"], sign_up_status="before_confirmation")
    refused(site.api.call("GET", "user", {"ust": ust, "current_app": APP}), 403, "E005003")


def test_a_caller_whose_password_expired_is_E005001_403(site):
    user, ust = site.new_user()
    site.expire_password(user["user_id"], days_from_now=-1)
    refused(site.api.call("GET", "user", {"ust": ust, "current_app": APP}), 403, "E005001")


def test_a_regular_user_naming_another_user_is_E008002_403(site):
    other, _ = site.new_user()
    _, ust = site.new_user()
    refused(_patch(site, ust, user_id=other["user_id"], display_name="hijack"), 403, "E008002")
    assert site.get(other["user_id"])["display_name"] is None


def test_a_regular_user_naming_their_own_id_may_update(site):
    user, ust = site.new_user()
    ok(_patch(site, ust, user_id=user["user_id"], first_name="Own"))


def test_a_regular_user_setting_a_super_user_attribute_is_E008002_403(site):
    user, ust = site.new_user()
    body = refused(_patch(site, ust, is_locked=False, display_name="x"), 403, "E008002")
    assert set(body["errors"]) == {"is_locked"}
    assert site.get(user["user_id"])["display_name"] is None


def test_a_user_id_that_matches_no_user_is_E001100_404(site):
    refused(_patch(site, site.admin_ust, user_id="zusrnobody", display_name="x"), 404, "E001100")
    refused(
        site.api.call("GET", "user", {"ust": site.admin_ust, "current_app": APP, "user_id": "zusrnobody"}),
        404,
        "E001100",
    )


def test_bad_values_are_all_reported_at_once_as_E008002_422(site):
    user, _ = site.new_user()
    body = refused(
        _patch(
            site,
            site.admin_ust,
            user_id=user["user_id"],
            is_locked="yes",
            email="",
            username="has space",
            sign_up_status="maybe",
            display_name="x" * 257,
            first_name="nul\u0000byte",
            password_expiry="next tuesday",
        ),
        422,
        "E008002",
    )
    assert set(body["errors"]) == {
        "is_locked",
        "email",
        "username",
        "sign_up_status",
        "display_name",
        "first_name",
        "password_expiry",
    }
    assert site.get(user["user_id"])["version"] == 1


def test_a_username_taken_case_insensitively_is_E001002_409(site):
    other, _ = site.new_user()
    _, ust = site.new_user()
    body = refused(_patch(site, ust, username=other["username"].upper()), 409, "E001002")
    assert "username" in body["errors"]
    refused(
        site.api.call("POST", "user", {"ust": site.admin_ust, "current_app": APP, "username": other["username"]}),
        409,
        "E001002",
    )


def test_a_stale_if_match_is_E011001_412_and_writes_nothing(site):
    user, ust = site.new_user()
    first = site.api.call("GET", "user", {"ust": ust, "current_app": APP})
    etag = first.headers["ETag"]
    second = ok(
        site.api.call(
            "PATCH", "user", {"ust": ust, "current_app": APP, "display_name": "one"}, headers={"If-Match": etag}
        )
    )
    assert second["display_name"] == "one"
    refused(
        site.api.call(
            "PATCH", "user", {"ust": ust, "current_app": APP, "display_name": "two"}, headers={"If-Match": etag}
        ),
        412,
        "E011001",
    )
    assert site.get(user["user_id"])["display_name"] == "one"


def test_an_if_match_for_another_user_or_a_weak_one_is_412_and_star_matches_any_version(site):
    user, ust = site.new_user()
    other, _ = site.new_user()
    data = {"ust": ust, "current_app": APP, "display_name": "x"}
    refused(site.api.call("PATCH", "user", data, headers={"If-Match": f'"{other["user_id"]}:1"'}), 412, "E011001")
    refused(site.api.call("PATCH", "user", data, headers={"If-Match": f'W/"{user["user_id"]}:1"'}), 412, "E011001")
    ok(site.api.call("PATCH", "user", data, headers={"If-Match": "*"}))


def test_an_if_match_that_is_not_an_entity_tag_is_400(site):
    _, ust = site.new_user()
    refused(
        site.api.call(
            "PATCH", "user", {"ust": ust, "current_app": APP, "display_name": "x"}, headers={"If-Match": "version 3"}
        ),
        400,
        "E008002",
    )


# --- around the update --------------------------------------------------------------------------------------


def test_a_wrong_password_or_unknown_user_at_login_is_E005001_403(site):
    user, _ = site.new_user(login=False)
    for username, password in ((user["username"], "Wrong-Pass-123"), (unique("ghost"), PASSWORD)):
        refused(
            site.api.call("POST", "user/login", {"username": username, "password": password, "current_app": APP}),
            403,
            "E005001",
        )


def test_login_to_an_unconfigured_app_is_E004001_403(site):
    user, _ = site.new_user(login=False)
    refused(
        site.api.call(
            "POST", "user/login", {"username": user["username"], "password": PASSWORD, "current_app": "Nope"}
        ),
        403,
        "E004001",
    )


def test_login_when_the_password_must_change_is_E003007_until_a_new_one_is_sent(site):
    user, _ = site.new_user(login=False, password_must_change=True)
    login = {"username": user["username"], "password": PASSWORD, "current_app": APP}
    refused(site.api.call("POST", "user/login", login), 403, "E003007")
    ok(site.api.call("POST", "user/login", {**login, "new_password": "Fresh-Start-88"}))


def test_a_new_password_breaking_a_rule_is_refused_with_its_code_as_422(site):
    _, ust = site.new_user()
    call = {"ust": ust, "current_app": APP, "old_password": PASSWORD}
    for new_password, code in (("short", "E003002"), ("x" * 257, "E003003"), ("my-Password-99", "E003001")):
        refused(site.api.call("PATCH", "user/password", {**call, "new_password": new_password}), 422, code)


def test_a_wrong_old_password_is_E005001_403(site):
    _, ust = site.new_user()
    refused(
        site.api.call(
            "PATCH",
            "user/password",
            {"ust": ust, "current_app": APP, "old_password": "Nope-Nope-1", "new_password": "Another-Gate-77"},
        ),
        403,
        "E005001",
    )


def test_a_regular_user_changing_another_users_password_is_E008002_403(site):
    other, _ = site.new_user()
    _, ust = site.new_user()
    refused(
        site.api.call(
            "PATCH",
            "user/password",
            {"ust": ust, "current_app": APP, "user_id": other["user_id"], "new_password": "Another-Gate-77"},
        ),
        403,
        "E008002",
    )


def test_a_regular_user_may_not_create_or_search_users_E005001_403(site):
    _, ust = site.new_user()
    refused(site.api.call("POST", "user", {"ust": ust, "current_app": APP, "username": unique("x")}), 403, "E005001")
    refused(site.api.call("GET", "user/search", {"ust": ust, "current_app": APP}), 403, "E005001")
    refused(
        site.api.call("GET", "user", {"ust": ust, "current_app": APP, "user_id": site.admin["user_id"]}), 403, "E005001"
    )


# --- the API's own refusals ------------------------------------------------------------------------------------


def test_a_body_that_is_not_json_or_not_an_object_is_400(site):
    _, ust = site.new_user()
    for raw in (b"{not json", b'["a list"]', b'"text"', b"\xff\xfe", b'{"display_name": NaN}', b'{"a": 1, "a": 2}'):
        refused(site.api.call("PATCH", "user", raw=raw, ust=ust), 400, "E008002")


def test_a_nested_value_is_400_because_no_attribute_is_a_container(site):
    _, ust = site.new_user()
    body = refused(_patch(site, ust, display_name={"first": "a"}, email=["a@example.com"]), 400, "E008002")
    assert set(body["errors"]) == {"display_name", "email"}


def test_a_missing_required_input_is_400_with_zatos_result_and_details(site):
    _, ust = site.new_user()
    assert "current_app" in refused(site.api.call("GET", "user", {"ust": ust}), 400, "E008002")["errors"]
    assert (
        "username"
        in refused(site.api.call("POST", "user/login", {"current_app": APP, "password": "x"}), 400, "E008002")["errors"]
    )
    assert (
        "username"
        in refused(site.api.call("POST", "user", {"ust": site.admin_ust, "current_app": APP}), 400, "E008002")["errors"]
    )
    assert (
        "new_password"
        in refused(site.api.call("PATCH", "user/password", {"ust": ust, "current_app": APP}), 400, "E008002")["errors"]
    )


def test_a_body_over_the_limit_is_413_in_the_envelope(site):
    _, ust = site.new_user()
    refused(_patch(site, ust, display_name="x" * 70_000), 413, "E008002")


def test_a_wrong_method_is_405_with_allow_and_an_unknown_path_404_both_in_the_envelope(site):
    response = site.api.call("PUT", "user", {"ust": site.admin_ust, "current_app": APP})
    refused(response, 405)
    assert response.headers["Allow"] == "DELETE, GET, HEAD, PATCH, POST"
    refused(site.api.call("PUT", "user/login", {}), 405)
    refused(site.api.call("GET", "user/delete", {}), 404)
    refused(site.api.call("GET", "", None), 404)
