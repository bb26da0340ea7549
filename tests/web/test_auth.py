"""Logging in and out of the console, forced password changes, the session cookie and its renewal."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from webapp.sso import Service, SSOError
from webapp.web.auth import RENEWED_KEY
from webapp.web.pending import seal_pending
from webapp.web.session_cookie import UST_COOKIE

from ..conftest import PASSWORD
from .conftest import web_login
from .html_forms import csrf_token, element, form, forms, text

NEW_PASSWORD = "Brand-new-Secret-77"


def ust_of(client) -> str | None:
    cookie = client.get_cookie(UST_COOKIE)
    return cookie.value if cookie else None


def test_the_login_page_has_a_heading_and_labelled_fields(client):
    html = text(client.get("/login"))
    assert "<h1>Log in</h1>" in html
    assert '<label for="login-username">Username</label>' in html
    assert '<label for="login-password">Password</label>' in html
    assert 'maxlength="128"' in html  # USERNAME_MAX, from the service's constants


def test_logging_in_sets_an_httponly_samesite_cookie_and_lands_on_my_account(client, make_user):
    make_user("alice")
    response = web_login(client, "alice")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(UST_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/account")
    assert page.status_code == 200 and "<h1>My account</h1>" in text(page)


def test_the_cookie_is_secure_when_the_console_is_reached_over_https(app, make_user):
    make_user("alice")
    client = app.test_client()
    login_form = forms(text(client.get("/login", base_url="https://localhost")))["login-form"]
    login_form.fill("username", "alice").fill("password", PASSWORD)
    response = login_form.submit(client, base_url="https://localhost", headers={"Referer": "https://localhost/login"})
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    assert all("Secure" in cookie for cookie in cookies), cookies


def test_the_cookie_is_secure_when_configured_so(app, make_user):
    app.config["SESSION_COOKIE_SECURE"] = True
    make_user("alice")
    response = web_login(app.test_client(), "alice")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(UST_COOKIE + "="))
    assert "Secure" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, make_user):
    make_user("alice")
    response = web_login(client, "alice", "Wrong-Password-1")
    assert response.status_code == 401
    assert "Wrong username or password" in text(response)
    assert ust_of(client) is None
    assert web_login(client, "nobody").status_code == 401


def test_an_empty_username_is_reported_on_its_field(client):
    response = web_login(client, "", PASSWORD)
    assert response.status_code == 422
    assert "is required" in element(text(response), "login-username-error")


def test_the_landing_page_leads_to_login_then_to_my_account(client, make_user):
    assert client.get("/").headers["Location"] == "/login"
    make_user("alice")
    web_login(client, "alice")
    assert client.get("/").headers["Location"] == "/account"


def test_pages_need_a_login_and_come_back_after_it(client, make_user):
    make_user("alice")
    response = client.get("/account/password")
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=/account/password"
    login_form = form(client, "/login?next=/account/password", "login-form")
    assert login_form.value("next") == "/account/password"
    login_form.fill("username", "alice").fill("password", PASSWORD)
    assert login_form.submit(client).headers["Location"] == "/account/password"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_never_leads_to_another_site(client, make_user, target):
    make_user("alice")
    login_form = form(client, "/login?next=" + target, "login-form")
    login_form.fill("username", "alice").fill("password", PASSWORD)
    assert login_form.submit(client).headers["Location"] == "/account"


def test_logging_out_ends_the_session(client, make_user, sso):
    make_user("alice")
    web_login(client, "alice")
    ust = ust_of(client)
    logout_form = form(client, "/logout", "logout-confirm-form")
    response = logout_form.submit(client)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert ust_of(client) is None
    with pytest.raises(SSOError):
        sso.user.get_current_user("cid", ust, "Console", "127.0.0.1")
    assert "You have logged out." in text(client.get("/login"))
    assert client.get("/account").status_code == 303


def test_a_user_who_must_change_the_password_chooses_a_new_one_at_login(client, make_user, sso, admin_ust):
    user = make_user("alice")
    sso.user.update_user_by_id("cid", user["user_id"], {"password_must_change": True}, admin_ust, "CRM", "::1")
    response = web_login(client, "alice")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>Choose a new password</h1>" in html and "must choose a new password" in html
    assert PASSWORD not in html  # the first step travels sealed
    assert ust_of(client) is None
    choose = forms(html)["new-password-form"]
    choose.fill("new_password", NEW_PASSWORD).fill("confirm_password", NEW_PASSWORD)
    response = choose.submit(client)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "Your new password is set." in text(client.get("/account"))
    assert sso.user.login("cid", "alice", NEW_PASSWORD, "CRM", "::1").ust


def test_an_expired_password_is_replaced_at_login(client, make_user, sso, admin_ust):
    user = make_user("alice")
    sso.user.update_user_by_id(
        "cid", user["user_id"], {"password_expiry": datetime.utcnow() - timedelta(days=1)}, admin_ust, "CRM", "::1"
    )
    html = text(web_login(client, "alice"))
    assert "Your password has expired" in html
    choose = forms(html)["new-password-form"]
    choose.fill("new_password", NEW_PASSWORD).fill("confirm_password", NEW_PASSWORD)
    assert choose.submit(client).status_code == 303
    assert client.get("/account").status_code == 200


def test_a_new_password_that_breaks_a_rule_is_shown_on_its_field(client, make_user, sso, admin_ust):
    user = make_user("alice")
    sso.user.update_user_by_id("cid", user["user_id"], {"password_must_change": True}, admin_ust, "CRM", "::1")
    choose = forms(text(web_login(client, "alice")))["new-password-form"]
    choose.fill("new_password", "short").fill("confirm_password", "short")
    response = choose.submit(client)
    assert response.status_code == 422
    assert "at least 8 characters" in element(text(response), "new-password-error")
    choose.fill("new_password", NEW_PASSWORD).fill("confirm_password", NEW_PASSWORD + "x")
    response = choose.submit(client)
    assert response.status_code == 422
    assert "does not match" in element(text(response), "new-password-confirm-error")
    assert ust_of(client) is None


def test_a_forged_first_step_leads_back_to_login(client, app, make_user):
    make_user("alice")
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login/new-password",
        data={
            "csrf_token": token,
            "pending": "not-a-sealed-token",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    with app.test_request_context():
        wrong = seal_pending("alice", "Not-Her-Password-1")
    response = client.post(
        "/login/new-password",
        data={"csrf_token": token, "pending": wrong, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert response.status_code == 303 and ust_of(client) is None


def test_the_session_is_renewed_at_most_once_a_minute(client, make_user, sso, monkeypatch):
    make_user("alice")
    web_login(client, "alice")
    calls = []
    original = Service.renew

    def counted_renew(service):
        calls.append(service.call)
        return original(service)

    monkeypatch.setattr(Service, "renew", counted_renew)  # what the console calls
    client.get("/account")
    client.get("/account")
    assert calls == []  # just logged in: the session is fresh
    with client.session_transaction() as session:
        session[RENEWED_KEY] -= 61
    client.get("/account")
    client.get("/account")
    assert len(calls) == 1


def test_a_locked_user_is_sent_to_login_with_the_reason(client, make_user, sso, admin_ust):
    user = make_user("alice")
    web_login(client, "alice")
    sso.user.update_user_by_id("cid", user["user_id"], {"is_locked": True}, admin_ust, "CRM", "::1")
    response = client.get("/account")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert "Your account is locked" in text(client.get("/login"))


def test_an_htmx_request_with_an_ended_session_redirects_the_whole_page(client, make_user):
    make_user("alice")
    web_login(client, "alice")
    client.set_cookie(UST_COOKIE, "gAAAA-not-a-token")
    response = client.get("/account", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/login")


def test_a_password_expiring_soon_is_announced_after_login(client, make_user, sso, admin_ust):
    user = make_user("alice")
    sso.user.update_user_by_id(
        "cid", user["user_id"], {"password_expiry": datetime.utcnow() + timedelta(days=5)}, admin_ust, "CRM", "::1"
    )
    assert web_login(client, "alice").status_code == 303
    assert "Your password expires soon." in text(client.get("/account"))
