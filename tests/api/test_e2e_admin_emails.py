"""An administrator's emails over real HTTP (issue 27): POST /zato/sso/user/email/send on gunicorn with the outbox
worker beside it, each kind received by a real SMTP server; its refusals (no such kind, no such user, a confirmed
sign-up, no permission) and the per-user throttle (429 naming the limit, Retry-After); and Manage user's buttons
as plain form posts to the same server."""

from __future__ import annotations

import uuid

import pytest

from ..conftest import PASSWORD
from ..mailbox import link_in, text_of
from ..server import console_session
from ..web.html_forms import forms
from .conftest import APP, start_site
from .helpers import ok, refused

PUBLIC = "https://sso.example.test"
PATH = "user/email/send"


@pytest.fixture(scope="module")
def site(request, tmp_path_factory, mailbox):
    yield from start_site(
        "sqlite",
        request,
        tmp_path_factory,
        SSO_SMTP_URL=mailbox.url,
        SSO_SIGNUP_APPS="CRM",
        SSO_PUBLIC_URL=PUBLIC,
        SSO_ADMIN_EMAIL_MAX_PER_USER="2",
    )


def person(site) -> tuple[dict, str]:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    user, _ = site.new_user("person", login=False, email=email)
    return user, email


def send(site, user_id, kind, ust=None):
    return site.api.call(
        "POST", PATH, {"current_app": APP, "user_id": user_id, "kind": kind}, ust=ust or site.admin_ust
    )


def test_each_email_is_sent_over_json_and_received(site, mailbox):
    user, email = person(site)
    assert set(ok(send(site, user["user_id"], "password_reset"))) == {"cid", "status"}
    assert link_in(mailbox.for_(email)).startswith(f"{PUBLIC}/password/reset/")
    ok(send(site, user["user_id"], "verify_email"))
    assert link_in(mailbox.for_(email, count=2)).startswith(f"{PUBLIC}/account/verify-email/")

    name = f"s{uuid.uuid4().hex[:8]}"
    signup = {"current_app": APP, "username": name, "password": PASSWORD, "email": f"{name}@example.com"}
    signed_up = ok(site.api.call("POST", "user/signup", {**signup, "app_list": ["CRM"]}))
    found = ok(site.api.call("GET", "user/search", {"current_app": APP, "username": name}, ust=site.admin_ust))
    user_id = found["result"][0]["user_id"]
    ok(send(site, user_id, "signup_confirmation"))
    message = mailbox.for_(f"{name}@example.com")
    assert message["Subject"] == "Confirm your SSO account" and "sent you this link again" in text_of(message)
    ok(site.api.call("PATCH", "user/signup", {"current_app": APP, "confirm_token": signed_up["confirm_token"]}))
    body = refused(send(site, user_id, "signup_confirmation"), 409, "E005007")
    assert body["errors"] == {"kind": "this user's sign-up is already confirmed"}


def test_refusals_name_the_field_and_the_throttle_names_the_limit(site, mailbox):
    user, email = person(site)
    assert "must be one of" in refused(send(site, user["user_id"], "welcome"), 422, "E008002")["errors"]["kind"]
    refused(send(site, "zusr" + "a" * 24, "password_reset"), 404, "E001100")
    _, plain_ust = site.new_user("plain")
    refused(send(site, user["user_id"], "password_reset", ust=plain_ust), 403, "E005001")
    no_email, _ = site.new_user("noemail", login=False)
    body = refused(send(site, no_email["user_id"], "password_reset"), 422, "E008002")
    assert body["errors"] == {"kind": "this user has no email address"}

    ok(send(site, user["user_id"], "password_reset"))
    ok(send(site, user["user_id"], "password_reset"))
    throttled = send(site, user["user_id"], "password_reset")
    body = refused(throttled, 429, "E008002")
    assert body["errors"]["kind"].startswith("at most 2 emails to this user within 60 minutes")
    assert 0 < int(throttled.headers["Retry-After"]) <= 3601
    mailbox.for_(email, count=2)
    assert len(mailbox.to(email)) == 2


def test_the_console_buttons_are_plain_form_posts_over_http(site, mailbox):
    http = console_session(site.api.base_url, site.admin["username"], PASSWORD)
    user, email = person(site)
    for kind, path in (("password_reset", "/password/reset/"), ("verify_email", "/account/verify-email/")):
        page = http.get(f"{site.api.base_url}/users/{user['user_id']}", timeout=30).text
        form = forms(page)[f"email-{kind}-form"]
        answer = http.post(f"{site.api.base_url}{form.action}", data=form.data(), allow_redirects=False, timeout=30)
        assert answer.status_code == 303 and answer.headers["Location"] == f"/users/{user['user_id']}"
        count = 1 if kind == "password_reset" else 2
        assert link_in(mailbox.for_(email, count=count)).startswith(f"{PUBLIC}{path}")

    name = f"s{uuid.uuid4().hex[:8]}"
    signup = {"current_app": APP, "username": name, "password": PASSWORD, "email": f"{name}@example.com"}
    ok(site.api.call("POST", "user/signup", {**signup, "app_list": ["CRM"]}))
    found = ok(site.api.call("GET", "user/search", {"current_app": APP, "username": name}, ust=site.admin_ust))
    user_id = found["result"][0]["user_id"]
    form = forms(http.get(f"{site.api.base_url}/users/{user_id}", timeout=30).text)["email-signup_confirmation-form"]
    answer = http.post(f"{site.api.base_url}{form.action}", data=form.data(), allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    assert link_in(mailbox.for_(f"{name}@example.com")).startswith(f"{PUBLIC}/signup/confirm/")
