"""Every endpoint's success path over real HTTP, against gunicorn on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.sso.kernel.context import utcnow

from ..conftest import PASSWORD
from .conftest import APP, unique
from .helpers import REGULAR_VIEW_KEYS, SUPER_VIEW_KEYS, ok, refused


def test_login_answers_a_ust_and_its_expiration_time_and_the_ust_works(site):
    user, _ = site.new_user(login=False)
    body = ok(
        site.api.call("POST", "user/login", {"username": user["username"], "password": PASSWORD, "current_app": APP})
    )
    assert set(body) == {"cid", "status", "ust", "expiration_time"}
    expires = datetime.fromisoformat(body["expiration_time"])
    assert expires.tzinfo is None, "Zato's wire form: naive UTC"
    assert expires.replace(tzinfo=UTC) > datetime.now(UTC)
    me = ok(site.api.call("GET", "user", {"ust": body["ust"], "current_app": APP}))
    assert me["user_id"] == user["user_id"]


def test_login_warns_with_W003005_when_the_password_expires_within_30_days(site):
    user, _ = site.new_user(login=False)
    site.expire_password(user["user_id"], days_from_now=10)
    body = ok(
        site.api.call("POST", "user/login", {"username": user["username"], "password": PASSWORD, "current_app": APP}),
        status="warning",
    )
    assert body["sub_status"] == ["W003005"]
    assert body["ust"]


def test_logout_ends_the_session_and_answers_ok_whatever_the_ust(site):
    _, ust = site.new_user()
    ok(site.api.call("POST", "user/logout", {"ust": ust, "current_app": APP}))
    refused(site.api.call("GET", "user", {"ust": ust, "current_app": APP}), 401, "E007001")
    ok(site.api.call("POST", "user/logout", {"ust": ust, "current_app": APP}))
    ok(site.api.call("POST", "user/logout", {"ust": "not-a-ust", "current_app": APP}))
    ok(site.api.call("POST", "user/logout", {"current_app": APP}))


def test_a_regular_user_gets_only_the_self_editable_attributes_and_user_id_with_an_etag(site):
    user, ust = site.new_user(display_name="Alice A.")
    response = site.api.call("GET", "user", {"ust": ust, "current_app": APP})
    body = ok(response)
    assert set(body) == REGULAR_VIEW_KEYS
    assert body["display_name"] == "Alice A." and body["email"] is None
    assert response.headers["ETag"] == f'"{user["user_id"]}:2"'


def test_a_super_user_gets_every_attribute_and_version_but_never_a_secret(site):
    user, _ = site.new_user()
    response = site.api.call("GET", "user", {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"]})
    body = ok(response)
    assert set(body) == SUPER_VIEW_KEYS
    assert body["version"] == 1 and body["password_is_set"] is True
    assert "password_hash" not in response.text and "password" not in body
    assert datetime.fromisoformat(body["sign_up_time"]).tzinfo is None, "Zato's wire form: naive UTC"


def test_patch_updates_the_caller_and_answers_the_updated_user_and_its_new_etag(site):
    user, ust = site.new_user()
    response = site.api.call(
        "PATCH",
        "user",
        {"ust": ust, "current_app": APP, "display_name": "New Name", "email": "new@example.com"},
        headers={"User-Agent": "zato-client/1"},
    )
    body = ok(response)
    assert body["display_name"] == "New Name" and body["email"] == "new@example.com"
    assert set(body) == REGULAR_VIEW_KEYS
    assert response.headers["ETag"] == f'"{user["user_id"]}:2"'
    (record,) = [
        r for r in site.sso.user.history("t", user["user_id"], site.admin_ust, APP, "x") if r["action"] == "update"
    ]
    assert (record["channel"], record["user_agent"], record["remote_addr"]) == ("api", "zato-client/1", "127.0.0.1")
    assert record["cid"] == body["cid"]
    assert record["changes"]["display_name"] == {"old": None, "new": "New Name"}


def test_a_super_user_patches_another_user_by_id_including_admin_only_attributes(site):
    user, _ = site.new_user()
    expiry = (utcnow() + timedelta(days=90)).replace(microsecond=0)
    body = ok(
        site.api.call(
            "PATCH",
            "user",
            {
                "ust": site.admin_ust,
                "current_app": APP,
                "user_id": user["user_id"],
                "password_expiry": expiry.isoformat(),
                "password_must_change": True,
                "approval_status": "approved",
                "last_name": None,
            },
        )
    )
    assert body["password_expiry"] == expiry.isoformat()
    assert body["password_must_change"] is True and body["version"] == 2


def test_post_user_creates_a_user_and_answers_200_with_its_user_id(site):
    name = unique("created")
    body = ok(
        site.api.call(
            "POST",
            "user",
            {
                "ust": site.admin_ust,
                "current_app": APP,
                "username": name,
                "password": "Sturdy-Gate-42",
                "email": "c@example.com",
                "auto_approve": True,
            },
        )
    )
    assert body["user_id"].startswith("zusr") and body["username"] == name
    assert body["approval_status"] == "approved" and body["sign_up_status"] == "final"
    assert set(body) == SUPER_VIEW_KEYS
    ok(site.api.call("POST", "user/login", {"username": name, "password": "Sturdy-Gate-42", "current_app": APP}))


def test_patch_password_changes_ones_own_password(site):
    user, ust = site.new_user()
    ok(
        site.api.call(
            "PATCH",
            "user/password",
            {"ust": ust, "current_app": APP, "old_password": PASSWORD, "new_password": "Another-Gate-77"},
        )
    )
    ok(
        site.api.call(
            "POST", "user/login", {"username": user["username"], "password": "Another-Gate-77", "current_app": APP}
        )
    )
    refused(
        site.api.call("POST", "user/login", {"username": user["username"], "password": PASSWORD, "current_app": APP}),
        403,
        "E005001",
    )


def test_a_super_user_sets_another_users_password_with_an_expiry_in_days(site):
    user, _ = site.new_user()
    ok(
        site.api.call(
            "PATCH",
            "user/password",
            {
                "ust": site.admin_ust,
                "current_app": APP,
                "user_id": user["user_id"],
                "new_password": "Another-Gate-77",
                "password_expiry": 5,
                "must_change": False,
            },
        )
    )
    expiry = site.get(user["user_id"])["password_expiry"]
    assert timedelta(days=4) < expiry - datetime.now(UTC) <= timedelta(days=5)


def test_search_answers_zato_result_shape(site):
    surname = unique("Surname")
    made = [site.new_user(login=False, last_name=surname)[0] for _ in range(3)]
    body = ok(
        site.api.call(
            "GET", "user/search", {"ust": site.admin_ust, "current_app": APP, "last_name": surname, "page_size": 2}
        )
    )
    assert set(body) == {
        "cid",
        "status",
        "result",
        "total",
        "num_pages",
        "cur_page",
        "page_size",
        "has_next_page",
        "has_prev_page",
        "next_page",
        "prev_page",
        "total_is_capped",
        "next_after",
    }
    assert (body["total"], body["num_pages"], body["cur_page"], body["page_size"]) == (3, 2, 1, 2)
    assert (body["has_next_page"], body["has_prev_page"], body["next_page"], body["prev_page"]) == (
        True,
        False,
        2,
        None,
    )
    assert len(body["result"]) == 2 and {u["user_id"] for u in body["result"]} <= {u["user_id"] for u in made}
    assert set(body["result"][0]) == SUPER_VIEW_KEYS - {"cid", "status"}


def test_search_takes_query_parameters_typed_as_json(site):
    surname = unique("Query")
    site.new_user(login=False, last_name=surname + " Smith")
    params = {
        "current_app": APP,
        "last_name": surname.lower(),
        "is_name_exact": "false",
        "paginate": "true",
        "page_size": "1",
        "cur_page": "1",
    }
    body = ok(site.api.call("GET", "user/search", ust=site.admin_ust, params=params))
    assert body["total"] == 1 and body["page_size"] == 1


def test_get_takes_its_inputs_as_query_parameters_with_the_ust_in_a_bearer_header(site):
    user, ust = site.new_user()
    body = ok(site.api.call("GET", "user", ust=ust, params={"current_app": APP, "user_id": "null"}))
    assert body["user_id"] == user["user_id"]


def test_the_openapi_document_is_served(site):
    response = site.api.call("GET", "openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert {"/zato/sso/user", "/zato/sso/user/login", "/zato/sso/user/search"} <= set(document["paths"])
