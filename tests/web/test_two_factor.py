"""Two-factor sign-in in the console without JavaScript (the Flask client reading the page's forms): the
login's code step, enrolment, and what a forged or stale form gets."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from webapp.sso import SSOError
from webapp.web.pending import seal_pending
from webapp.web.session_cookie import UST_COOKIE

from ..conftest import PASSWORD
from .conftest import web_login
from .html_forms import csrf_token, element, form, forms, text

KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NEW_PASSWORD = "Brand-new-Secret-77"


def ust_of(client) -> str | None:
    cookie = client.get_cookie(UST_COOKIE)
    return cookie.value if cookie else None


def later_code(key: str = KEY) -> str:
    return pyotp.TOTP(key).at(time.time() + 30)


def with_totp(sso, admin_ust, user, **more):
    sso.user.update_user_by_id(
        "cid", user["user_id"], {"totp_key": KEY, "is_totp_enabled": True, **more}, admin_ust, "CRM", "::1"
    )


def test_a_user_with_two_factor_sign_in_gets_a_code_step_and_nothing_before_the_code(client, make_user, sso, admin_ust):
    with_totp(sso, admin_ust, make_user("alice"))
    response = web_login(client, "alice")
    assert response.status_code == 200 and ust_of(client) is None
    step = forms(text(response))["code-form"]
    assert step.value("pending") and PASSWORD not in text(response)
    assert '<label for="login-code">Code</label>' in text(response)
    response = step.fill("code", "12345x").submit(client)
    assert response.status_code == 401 and "not right" in element(text(response), "code-error")
    assert ust_of(client) is None
    response = forms(text(response))["code-form"].fill("code", later_code()).submit(client)
    assert response.status_code == 303 and response.headers["Location"] == "/account" and ust_of(client)


def test_a_forced_new_password_comes_first_then_the_code(client, make_user, sso, admin_ust):
    user = make_user("alice")
    with_totp(sso, admin_ust, user, password_must_change=True)
    response = web_login(client, "alice")
    choose = forms(text(response))["new-password-form"]
    response = choose.fill("new_password", NEW_PASSWORD).fill("confirm_password", NEW_PASSWORD).submit(client)
    assert response.status_code == 200 and NEW_PASSWORD not in text(response)
    response = forms(text(response))["code-form"].fill("code", later_code()).submit(client)
    assert response.status_code == 303 and ust_of(client)
    with pytest.raises(SSOError) as info:  # the new password is right: only the code is missing
        sso.user.login("cid", "alice", NEW_PASSWORD, "CRM", "::1")
    assert info.value.sub_status == ["E005008"]


def test_a_forged_or_stale_first_step_leads_back_to_login(client, app, make_user, sso, admin_ust):
    with_totp(sso, admin_ust, make_user("alice"))
    token = csrf_token(text(client.get("/login")))
    response = client.post("/login/code", data={"csrf_token": token, "pending": "forged", "code": later_code()})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    with app.test_request_context():
        wrong = seal_pending("alice", "Not-Her-Password-1")
    response = client.post("/login/code", data={"csrf_token": token, "pending": wrong, "code": later_code()})
    assert ust_of(client) is None
    assert client.get("/login/code").status_code == 302


def test_enrolment_reads_the_key_off_the_page_and_needs_password_and_code(alice_client, sso):
    client, user = alice_client
    html = text(client.get("/account/two-factor"))
    assert (
        re.search(r'<svg role="img" aria-labelledby="totp-qr-title"', html)
        and "<script" not in html.split("</header>")[1]
    )
    shown = re.search(r'id="totp-key"[^>]*>([A-Z2-7 ]+)<', html)
    assert shown is not None
    key = shown.group(1).replace(" ", "")
    enable = forms(html)["enable-form"]
    response = enable.fill("totp_code", pyotp.TOTP(key).now()).fill("password", "wrong-password-1").submit(client)
    assert response.status_code == 422 and "not your current password" in element(text(response), "totp-password-error")
    assert key.replace(" ", "") in text(response).replace(" ", "")  # the same key, to try again
    response = (
        forms(text(response))["enable-form"]
        .fill("totp_code", pyotp.TOTP(key).now())
        .fill("password", PASSWORD)
        .submit(client)
    )
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([A-Z0-9-]{19})</code></li>", text(response))
    assert len(codes) == 10
    assert "Two-factor sign-in is <strong>on</strong>" in text(client.get("/account/two-factor"))
    assert not re.findall(r"<li><code>", text(client.get("/account/two-factor")))  # shown once
    assert sso.user.login("cid", user["username"], PASSWORD, "CRM", "::1", totp_code=codes[5]).status == "ok"


def test_a_tampered_key_is_not_enrolled(alice_client, sso):
    client, user = alice_client
    enable = form(client, "/account/two-factor", "enable-form")
    data = {**dict(enable.data()), "sealed_key": KEY, "totp_code": pyotp.TOTP(KEY).now(), "password": PASSWORD}
    response = client.post(enable.action, data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor"
    assert sso.user.login("cid", user["username"], PASSWORD, "CRM", "::1").status == "ok"  # still off


def test_only_a_super_user_turns_someone_elses_two_factor_sign_in_off(
    alice_client, admin_client, make_user, sso, admin_ust
):
    target = make_user("bob")
    with_totp(sso, admin_ust, target)
    client, _ = alice_client
    token = csrf_token(text(client.get("/account")))
    response = client.post(f"/users/{target['user_id']}/two-factor/disable", data={"csrf_token": token})
    assert response.status_code == 403
    response = client.post(f"/users/{target['user_id']}/two-factor/disable")
    assert response.status_code == 400  # no CSRF token: refused before anything
    admin, _ = admin_client
    page = text(admin.get(f"/users/{target['user_id']}"))
    response = forms(page)["totp-off-form"].submit(admin)
    assert response.status_code == 303
    assert sso.user.login("cid", "bob", PASSWORD, "CRM", "::1").status == "ok"


@pytest.mark.parametrize("action", ["recovery-codes", "disable"])
def test_wrong_passwords_on_the_two_factor_page_are_throttled_like_sign_ins(alice_client, sso, admin_ust, action):
    """Issue 31 #1: ten wrong passwords were ten 422s and the right one then worked."""
    client, user = alice_client
    with_totp(sso, admin_ust, user)
    prefix = "regenerate" if action == "recovery-codes" else "disable"
    token = csrf_token(text(client.get("/account/two-factor")))
    url = f"/account/two-factor/{action}"
    for _ in range(5):  # SSO_LOGIN_MAX_FAILURES per (username, address)
        response = client.post(url, data={"csrf_token": token, f"{prefix}-password": "Wrong-Password-1"})
        assert response.status_code == 422
    response = client.post(url, data={"csrf_token": token, f"{prefix}-password": PASSWORD})
    assert response.status_code == 429 and "sign-in paused, try again in 5 minutes" in text(response)
    assert sso.user.totp_status("cid", None, ust_of(client), "Console", "127.0.0.1").is_enabled


def test_the_first_step_of_a_login_works_once_and_only_in_its_own_browser(app, client, make_user, sso, admin_ust):
    """Issue 31 #5: after a successful code step, another browser sending the same `pending` with a recovery
    code got a second session."""
    user = make_user("alice")
    with_totp(sso, admin_ust, user)
    codes = sso.user.regenerate_recovery_codes(
        "cid",
        PASSWORD,
        sso.user.login("cid", "alice", PASSWORD, "CRM", "::1", totp_code=pyotp.TOTP(KEY).now()).ust,
        "CRM",
        "::1",
    )
    step = forms(text(web_login(client, "alice")))["code-form"]
    pending = step.value("pending")
    thief = app.test_client()
    token = csrf_token(text(thief.get("/login")))
    stolen = thief.post("/login/code", data={"csrf_token": token, "pending": pending, "code": codes[0]})
    assert stolen.status_code == 303 and stolen.headers["Location"] == "/login" and ust_of(thief) is None
    response = step.fill("code", later_code()).submit(client)
    assert response.status_code == 303 and ust_of(client)
    for browser, page_with_form in ((thief, "/login"), (client, "/account")):  # used: it opens nowhere again
        token = csrf_token(text(browser.get(page_with_form)))
        again = browser.post("/login/code", data={"csrf_token": token, "pending": pending, "code": codes[1]})
        assert again.status_code == 303 and again.headers["Location"] == "/login"
    assert ust_of(thief) is None
    assert sso.user.login("cid", "alice", PASSWORD, "CRM", "::1", totp_code=codes[1]).status == "ok"  # unspent
