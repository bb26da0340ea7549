"""SPEC §18 in the console, with the test client: the pages' forms and what passkeys.js posts (the options, then
the form with the browser's answer in `credential`), the answer made by a software authenticator; without
JavaScript the forms arrive with no answer and the page says what is needed."""

from __future__ import annotations

import json
from datetime import timedelta

from webapp.sso.kernel.context import utcnow

from ..passkey_authenticator import SoftAuthenticator
from .conftest import web_login
from .html_forms import form, forms, text

ORIGIN = "http://localhost:8000"


def add(client, authenticator, name="Laptop"):
    """What the script does on My account → Passkeys: options, the browser, then the form."""
    add_form = form(client, "/account/passkeys", "passkey-add-form")
    options = client.post("/account/passkeys/options", data=dict(add_form.data()))
    assert options.status_code == 200, options.text
    add_form.fill("name", name)
    for control in add_form.controls:
        if control.name == "credential":
            control.value = json.dumps(authenticator.create(options.json["options"]))
    return add_form.submit(client)


def with_answer(page_form, answer: dict):
    for control in page_form.controls:
        if control.name == "credential":
            control.value = json.dumps(answer)
    return page_form


def test_adding_a_passkey_through_the_page_lists_it(alice_client):
    client, _user = alice_client
    key = SoftAuthenticator(ORIGIN)
    answer = add(client, key, "Work laptop")
    assert answer.status_code == 303 and answer.location.endswith("/account/passkeys")
    page = text(client.get("/account/passkeys"))
    assert "Passkey “Work laptop” added" in page and "synced between your devices" in page
    assert 'id="passkey-none"' not in page and "never" in page
    assert "js/passkeys.js" in page and "<script>" not in page
    history = text(client.get("/account/history"))
    assert "Passkey added" in history and "Work laptop" in history


def test_without_javascript_the_pages_say_what_is_needed(alice_client, app):
    client, _user = alice_client
    add_form = form(client, "/account/passkeys", "passkey-add-form").fill("name", "Laptop")
    refused = add_form.submit(client)
    assert refused.status_code == 422
    assert "Passkeys need JavaScript and a browser that supports them" in text(refused)
    anonymous = app.test_client()
    login_page = text(anonymous.get("/login"))
    assert "Signing in with a passkey needs JavaScript" in login_page  # the <noscript> text
    answer = forms(login_page)["passkey-login-form"].submit(anonymous)
    assert answer.status_code == 422 and "Passkeys need JavaScript" in text(answer)


def test_signing_in_with_a_passkey_from_the_login_page(alice_client, app):
    client, _user = alice_client
    key = SoftAuthenticator(ORIGIN)
    add(client, key)
    browser = app.test_client()
    login_form = form(browser, "/login", "passkey-login-form")
    options = browser.post("/login/passkey/options", data=dict(login_form.data()))
    assert options.json["options"]["userVerification"] == "required"
    answer = with_answer(login_form, key.get(options.json["options"])).submit(browser)
    assert answer.status_code == 303 and answer.location.endswith("/account")
    assert 'Logged in as <strong id="account-username">alice</strong>' in text(browser.get("/account"))
    # a browser that did not start the ceremony cannot finish it (the challenge is bound to the session)
    starter, stranger = app.test_client(), app.test_client()
    stranger_form = form(stranger, "/login", "passkey-login-form")
    options = starter.post("/login/passkey/options", data=dict(form(starter, "/login", "passkey-login-form").data()))
    refused = with_answer(stranger_form, key.get(options.json["options"])).submit(stranger)
    assert refused.status_code == 422 and "That took too long, or the page was used twice" in text(refused)


def test_an_unknown_passkey_is_refused_like_a_wrong_password(app):
    browser = app.test_client()
    login_form = form(browser, "/login", "passkey-login-form")
    options = browser.post("/login/passkey/options", data=dict(login_form.data()))
    answer = with_answer(login_form, SoftAuthenticator(ORIGIN).get(options.json["options"])).submit(browser)
    assert answer.status_code == 401
    assert "That passkey did not sign you in, or this account may not log in now." in text(answer)


def test_the_code_step_takes_a_passkey(alice_client, app, sso, admin_ust):
    client, user = alice_client
    key = SoftAuthenticator(ORIGIN)
    add(client, key)
    totp_on = {"totp_key": "KMCLCWN4YPMD2WO3", "is_totp_enabled": True}
    sso.user.update_user_by_id("cid", user["user_id"], totp_on, admin_ust, "CRM", "10.0.0.9")
    browser = app.test_client()
    step = web_login(browser, "alice")
    assert step.status_code == 200 and "passkey-factor-form" in text(step)
    factor_form = forms(text(step))["passkey-factor-form"]
    options = browser.post("/login/passkey/options", data=dict(factor_form.data()))
    assert options.json["options"]["userVerification"] == "preferred"
    answer = with_answer(factor_form, key.get(options.json["options"])).submit(browser)
    assert answer.status_code == 303, text(answer)
    assert browser.get("/account").status_code == 200


def test_removing_after_five_minutes_asks_for_the_password(alice_client, sso):
    client, _user = alice_client
    key = SoftAuthenticator(ORIGIN)
    add(client, key)
    later = utcnow() + timedelta(minutes=6)
    sso.ctx.clock = lambda: later
    page = text(client.get("/account/passkeys"))
    assert 'id="passkey-password-field" data-passkey-password >' in page, "the add form asks for the password"
    remove = next(f for f in forms(page).values() if f.action.endswith("/remove"))
    refused = remove.submit(client)
    assert refused.status_code == 403 and "Not removed: enter your current password" in text(refused)
    assert remove.fill("password", "Correct-Horse-9").submit(client).status_code == 303
    assert 'id="passkey-none"' in text(client.get("/account/passkeys"))


def test_a_super_user_sees_and_removes_a_users_passkey(alice_client, admin_client):
    client, user = alice_client
    add(client, SoftAuthenticator(ORIGIN), "Phone")
    admin, _admin_user = admin_client
    page = text(admin.get(f"/users/{user['user_id']}"))
    assert "user-passkeys-card" in page and "Phone" in page
    remove = next(f for f in forms(page).values() if "/passkeys/" in f.action)
    assert remove.submit(admin).status_code == 303
    assert 'id="user-passkeys-none"' in text(admin.get(f"/users/{user['user_id']}"))


def test_a_paused_sign_in_reads_the_same_with_a_passkey(alice_client, app):
    client, _user = alice_client
    key = SoftAuthenticator(ORIGIN)
    add(client, key)
    browser = app.test_client()
    for _ in range(5):
        assert web_login(browser, "alice", "wrong password").status_code == 401
    paused = web_login(browser, "alice")
    assert paused.status_code == 429
    login_form = form(browser, "/login", "passkey-login-form")
    options = browser.post("/login/passkey/options", data=dict(login_form.data()))
    answer = with_answer(login_form, key.get(options.json["options"])).submit(browser)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == paused.headers["Retry-After"]
    assert "Sign-in paused, try again in 5 minutes." in text(answer) and "Sign-in paused" in text(paused)


def test_a_super_users_own_passkeys_on_manage_user_point_to_my_account(admin_client):
    admin, admin_user = admin_client
    add(admin, SoftAuthenticator(ORIGIN), "Mine")
    page = text(admin.get(f"/users/{admin_user['user_id']}"))
    assert "Remove or rename your own under My account → Passkeys" in page
    assert not [f for f in forms(page).values() if "/passkeys/" in f.action]
    assert 'maxlength="64"' in text(admin.get("/account/passkeys"))
