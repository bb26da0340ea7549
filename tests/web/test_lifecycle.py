"""The console's lifecycle and sessions (SPEC §8–§9), without JavaScript: the confirmation pages, delete,
the guard rails, Manage user → Sessions and My account → Devices."""

from __future__ import annotations

import re
from html import unescape

import pytest

from webapp.sso import SSOError

from ..conftest import PASSWORD
from .conftest import web_login
from .html_forms import csrf_token, element, form, forms, text


def confirm_path(client, user_id: str, action: str) -> str:
    html = text(client.get(f"/users/{user_id}"))
    link = re.search(r'id="' + action + r'-button"\s+href="([^"]+)"', html)
    assert link is not None
    return unescape(link.group(1))


def test_the_confirmation_says_what_will_happen_and_nothing_happens_until_confirmed(
    admin_client, make_user, login, sso
):
    client, _ = admin_client
    bob = make_user("bob")
    login("bob"), login("bob")
    for action, words in (
        ("lock", ["bob cannot log in until someone unlocks", "2 open sessions end now"]),
        ("reject", ["bob cannot log in", "2 open sessions stop working"]),
        ("delete", ["cannot be undone", "audit history keeps a record", "2 open sessions end"]),
    ):
        response = client.get(confirm_path(client, bob["user_id"], action))
        html = text(response)
        assert response.status_code == 200 and "<h1" in html and f"{action.capitalize()} bob" in html
        for line in words:
            assert line in html, (action, line)
        assert 'id="cancel-button"' in html
    # Not locked, not rejected, not deleted: bob still logs in, and his two sessions still work.
    assert len(sso.user.list_sessions("c", None, login("bob"), "CRM", "::1")) == 3


def test_deleting_after_confirming_removes_the_user_and_lists_them_no_more(admin_client, make_user, sso, login):
    client, _ = admin_client
    bob = make_user("bob")
    bob_ust = login("bob")
    response = form(client, confirm_path(client, bob["user_id"], "delete"), "delete-form").submit(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/users")
    listing = text(client.get(response.headers["Location"]))
    assert "Deleted user bob." in listing and ">bob<" not in listing
    assert client.get(f"/users/{bob['user_id']}").status_code == 404
    assert web_login(client.application.test_client(), "bob").status_code == 401
    with pytest.raises(SSOError):
        sso.user.get_current_user("c", bob_ust, "CRM", "::1")


def test_a_super_user_cannot_lock_reject_or_delete_themselves_from_the_console(admin_client):
    client, admin = admin_client
    # The pages offer none of the three on one's own record (tests/web/test_console_walk.py); a form sent
    # all the same is refused.
    token = csrf_token(text(client.get(f"/users/{admin['user_id']}")))
    for path, data, message in (
        ("quick", {"action": "lock", "version": "1"}, "you cannot lock your own account"),
        ("quick", {"action": "reject", "version": "1"}, "you cannot reject your own account"),
        ("delete", {}, "you cannot delete your own account"),
    ):
        response = client.post(f"/users/{admin['user_id']}/{path}", data={"csrf_token": token, **data})
        assert response.status_code == 403, path
        assert message in element(text(response), "action-error")
    assert "Locked" not in text(client.get("/account")).split("<main")[1].split("Recent activity")[0]


def test_the_manage_form_cannot_lock_oneself_either(admin_client):
    client, admin = admin_client
    page = form(client, f"/users/{admin['user_id']}", "user-form")
    page.check("is_locked", "true")
    response = page.submit(client)
    assert response.status_code == 403
    assert "you cannot lock your own account" in text(response)


def test_manage_user_lists_sessions_and_signs_them_all_out(admin_client, make_user, sso, login):
    client, _ = admin_client
    bob = make_user("bob")
    sso.user.login("c", "bob", PASSWORD, "CRM", "10.1.1.1", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Firefox/120.0")
    other = login("bob")
    html = text(client.get(f"/users/{bob['user_id']}"))
    assert "2 open sessions" in html and "Firefox 120 on Linux" in html and "10.1.1.1" in html
    response = forms(html)["end-sessions-form"].submit(client)
    assert response.status_code == 303
    html = text(client.get(response.headers["Location"]))
    assert "Signed out 2 sessions." in html and "No open sessions." in html
    with pytest.raises(SSOError):
        sso.user.get_current_user("c", other, "CRM", "::1")


def test_my_devices_show_each_session_and_sign_out_one_or_everywhere_else(alice_client, sso, login):
    client, _alice = alice_client
    phone = sso.user.login(
        "c",
        "alice",
        PASSWORD,
        "CRM",
        "10.2.2.2",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604.1",
    ).ust
    laptop = login("alice")
    html = text(client.get("/account"))
    assert 'id="devices-card"' in html and "Safari on iOS" in html and "10.2.2.2" in html
    assert html.count('id="this-device"') == 1
    rows = re.findall(r'<tr id="session-(zses\w+)"( class="is-current")?', html)
    assert len(rows) == 3 and sum(1 for _, current in rows if current) == 1
    phone_id = next(s["session_id"] for s in sso.user.list_sessions("c", None, phone, "CRM", "::1") if s["is_current"])
    token = csrf_token(html)
    response = client.post("/account/sessions/end", data={"csrf_token": token, "session_id": phone_id})
    assert response.status_code == 303
    assert "Signed out that device." in text(client.get(response.headers["Location"]))
    response = client.post("/account/sessions/end", data={"csrf_token": token, "session_id": phone_id})
    assert "That session had already ended." in text(client.get(response.headers["Location"]))
    html = text(client.get("/account"))
    response = forms(html)["end-others-form"].submit(client)
    html = text(client.get(response.headers["Location"]))
    assert "Signed out 1 other session." in html and 'id="end-others-form"' not in html
    for token_ in (phone, laptop):
        with pytest.raises(SSOError):
            sso.user.get_current_user("c", token_, "CRM", "::1")
    assert client.get("/account").status_code == 200  # this device stays signed in


def test_a_regular_user_cannot_reach_the_lifecycle_pages_or_end_anothers_session(alice_client, make_user, sso, login):
    client, _ = alice_client
    bob = make_user("bob")
    bob_ust = login("bob")
    token = csrf_token(text(client.get("/account")))
    assert client.get(f"/users/{bob['user_id']}/confirm?action=delete").status_code == 403
    for path in (f"/users/{bob['user_id']}/delete", f"/users/{bob['user_id']}/sessions/end"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    [bobs] = sso.user.list_sessions("c", None, bob_ust, "CRM", "::1")
    response = client.post("/account/sessions/end", data={"csrf_token": token, "session_id": bobs["session_id"]})
    assert "That session had already ended." in text(client.get(response.headers["Location"]))
    assert sso.user.get_current_user("c", bob_ust, "CRM", "::1")["username"] == "bob"


def test_the_new_forms_need_a_csrf_token(admin_client, make_user):
    client, _ = admin_client
    bob = make_user("bob")
    for path in (
        f"/users/{bob['user_id']}/delete",
        f"/users/{bob['user_id']}/sessions/end",
        "/account/sessions/end-others",
        "/account/sessions/end",
    ):
        assert client.post(path, data={}).status_code == 400, path
    assert client.get(f"/users/{bob['user_id']}").status_code == 200
