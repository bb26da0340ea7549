"""Sign-up, confirmation and password reset over real HTTP: gunicorn on SQLite sending to a real SMTP server."""

from __future__ import annotations

import uuid

import pytest

from ..conftest import PASSWORD
from ..mailbox import token_in
from .conftest import APP, start_site
from .helpers import ok, refused

NEW_PASSWORD = "Brand-New-Horse-31"


@pytest.fixture(scope="module")
def site(request, tmp_path_factory, mailbox):
    """One server for the module, mailing through the module's SMTP server; CRM is a sign-up app."""
    yield from start_site(
        "sqlite",
        request,
        tmp_path_factory,
        SSO_SMTP_URL=mailbox.url,
        SSO_SIGNUP_APPS="CRM",
        SSO_PUBLIC_URL="https://sso.example.test",
    )


def signup_body(**data):
    return {
        "current_app": APP,
        "username": f"new.{uuid.uuid4().hex[:8]}",
        "password": PASSWORD,
        "app_list": ["CRM"],
        **data,
    }


def test_sign_up_answers_a_confirm_token_that_confirms_once(site):
    body = signup_body(email=f"{uuid.uuid4().hex[:8]}@example.com", first_name="Ann")
    answer = ok(site.api.call("POST", "user/signup", body))
    assert set(answer) == {"cid", "status", "confirm_token"}
    found = ok(
        site.api.call("GET", "user/search", {"current_app": APP, "username": body["username"]}, ust=site.admin_ust)
    )["result"][0]
    assert (found["sign_up_status"], found["approval_status"], found["first_name"]) == (
        "before_confirmation",
        "before_decision",
        "Ann",
    )

    confirm = {"current_app": APP, "confirm_token": answer["confirm_token"]}
    assert set(ok(site.api.call("PATCH", "user/signup", confirm))) == {"cid", "status"}
    assert site.get(found["user_id"])["sign_up_status"] == "final"
    refused(site.api.call("PATCH", "user/signup", confirm), 409, "E005007")
    refused(site.api.call("PATCH", "user/signup", {"current_app": APP, "confirm_token": "A" * 43}), 404, "E005006")
    refused(site.api.call("PATCH", "user/signup", {"current_app": APP, "confirm_token": 7}), 404, "E005006")


def test_sign_up_refusals_carry_zatos_codes(site):
    refused(site.api.call("POST", "user/signup", signup_body(current_app="Console")), 403, "E004002")
    refused(site.api.call("POST", "user/signup", signup_body(app_list=["CRM", "Console"])), 403, "E004002")
    refused(site.api.call("POST", "user/signup", signup_body(app_list=["Elsewhere"])), 403, "E004001")
    refused(site.api.call("POST", "user/signup", signup_body(username="root")), 422, "E001001")
    refused(
        site.api.call("POST", "user/signup", signup_body(username="a b", email="x y@example.com", password="short")),
        422,
        "E001004",
        "E002004",
        "E003002",
    )
    refused(site.api.call("POST", "user/signup", signup_body(email="e" * 250 + "@example.com")), 422, "E002003")
    refused(site.api.call("POST", "user/signup", signup_body(username="u" * 129)), 422, "E001003")
    refused(site.api.call("POST", "user/signup", signup_body(app_list={"CRM": 1})), 400, "E008002")
    refused(site.api.call("POST", "user/signup", signup_body(is_super_user=True)), 422, "E008002")
    missing = signup_body()
    del missing["password"]
    assert refused(site.api.call("POST", "user/signup", missing), 400, "E008002")["errors"] == {
        "password": "is required"
    }
    taken = signup_body(email=f"{uuid.uuid4().hex[:8]}@example.com")
    ok(site.api.call("POST", "user/signup", taken))
    refused(site.api.call("POST", "user/signup", taken), 409, "E001002", "E002002")


def test_password_reset_from_the_emailed_token_to_the_new_password(site, mailbox):
    user, ust = site.new_user("resetting")
    email = f"{user['username']}@example.com"
    site.set(user["user_id"], email=email)

    assert set(ok(site.api.call("POST", "password/reset", {"current_app": APP, "credential": user["username"]}))) == {
        "cid",
        "status",
    }
    token = token_in(mailbox.for_(email))
    refused(
        site.api.call(
            "DELETE",
            "password/reset",
            {"current_app": APP, "token": token, "reset_key": "A" * 43, "password": NEW_PASSWORD},
        ),
        403,
        "E010001",
    )
    reset_key = ok(site.api.call("PATCH", "password/reset", {"current_app": APP, "token": token}))["reset_key"]
    refused(site.api.call("PATCH", "password/reset", {"current_app": APP, "token": token}), 403, "E010001")
    change = {"current_app": APP, "token": token, "reset_key": reset_key, "password": NEW_PASSWORD}
    refused(site.api.call("DELETE", "password/reset", {**change, "password": "short"}), 422, "E003002")
    ok(site.api.call("DELETE", "password/reset", change))
    refused(site.api.call("DELETE", "password/reset", change), 403, "E010001")

    refused(site.api.call("GET", "user", {"current_app": APP}, ust=ust), 401, "E007001")
    login = {"current_app": APP, "username": user["username"]}
    refused(site.api.call("POST", "user/login", {**login, "password": PASSWORD}), 403, "E005001")
    assert ok(site.api.call("POST", "user/login", {**login, "password": NEW_PASSWORD}))["ust"]


def test_a_reset_request_answers_the_same_for_an_unknown_credential(site, mailbox):
    user, _ = site.new_user("known")
    site.set(user["user_id"], email=f"{user['username']}@example.com")
    answers = [
        site.api.call("POST", "password/reset", {"current_app": APP, "credential": credential})
        for credential in (user["username"], "nobody-" + uuid.uuid4().hex)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert [{k: v for k, v in a.json().items() if k != "cid"} for a in answers] == [{"status": "ok"}] * 2
    refused(site.api.call("POST", "password/reset", {"current_app": APP}), 400, "E008002")
    refused(site.api.call("POST", "password/reset", {"current_app": APP, "credential": ["x"]}), 400, "E008002")
