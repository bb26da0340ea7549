"""Bulk actions from the users list without JavaScript (issue 11): tick users, choose, confirm, see each outcome."""

from __future__ import annotations

from html import unescape

from werkzeug.datastructures import MultiDict

from .html_forms import csrf_token, element, form, forms, text
from .test_account import audit_rows, stored


def bulk_form(client, path: str = "/users"):
    return form(client, path, "bulk-form")


def test_lock_two_users_through_the_confirmation_then_the_result_page(admin_client, make_user, login, sso, admin_ust):
    client, _ = admin_client
    bob, carol = make_user("bob"), make_user("carol")
    make_user("dave")
    bob_ust = login("bob")
    login("carol")
    page = bulk_form(client, "/users?q=o&sort=email")  # bob, carol (and root): the list as it was searched
    page.check("user_id", bob["user_id"]).check("user_id", carol["user_id"]).fill("action", "lock")
    confirm = page.submit(client)
    html = text(confirm)
    assert confirm.status_code == 200 and "<h1" in html and "Lock 2 users?" in html
    assert "Each selected user cannot log in until someone unlocks the account." in html
    assert "open sessions (2 in all)" in html
    assert 'id="selected-' + bob["user_id"] + '"' in html and 'id="selected-' + carol["user_id"] + '"' in html
    assert stored(sso, admin_ust, bob["user_id"])["is_locked"] is False  # nothing yet
    assert unescape(element(html, "cancel-button")).count("/users?q=o&sort=email") == 1
    result = forms(html)["bulk-confirm-form"].submit(client)
    html = text(result)
    assert result.status_code == 200 and "Lock: results" in html
    assert "2 locked." in element(html, "bulk-summary")
    for user in (bob, carol):
        assert stored(sso, admin_ust, user["user_id"])["is_locked"] is True
        assert len([r for r in audit_rows(client.application, user["user_id"]) if r["action"] == "update"]) == 1
    assert html.count(">Locked<") == 2
    assert 'href="/users?q=o&amp;sort=email"' in element(html, "bulk-back")
    assert sso.user.verify_session("c", bob_ust, admin_ust, "CRM", "::1") is False


def test_approve_runs_at_once_and_each_user_gets_their_own_outcome(admin_client, make_user, sso, admin_ust):
    client, admin = admin_client
    wendy = sso.user.create_user("c", {"username": "wendy", "password": "Some-Long-Secret-1"}, admin_ust, "CRM", "::1")
    bob = make_user("bob")
    page = bulk_form(client)
    page.check("user_id", wendy["user_id"]).check("user_id", bob["user_id"]).fill("action", "approve")
    html = text(page.submit(client))
    assert "Approve: results" in html and "1 approved, 1 no change." in html
    assert "No change: already approved" in html
    assert stored(sso, admin_ust, wendy["user_id"])["approval_status"] == "approved"
    # Lock oneself among others: the others are locked, one's own account is not, and it says why.
    page = bulk_form(client)
    page.check("user_id", admin["user_id"]).check("user_id", bob["user_id"]).fill("action", "lock")
    confirm = forms(text(page.submit(client)))["bulk-confirm-form"]
    html = text(confirm.submit(client))
    assert "1 locked, 1 not done." in html and "Not done: you cannot lock your own account" in html
    assert stored(sso, admin_ust, admin["user_id"])["is_locked"] is False


def test_no_selection_or_no_action_says_so_on_the_list_keeping_the_ticks(admin_client, make_user):
    client, _ = admin_client
    bob = make_user("bob")
    page = bulk_form(client, "/users?q=bo")
    page.fill("action", "lock")
    response = page.submit(client)
    html = text(response)
    assert response.status_code == 422 and "<h1>Manage users</h1>" in html
    assert "Select at least one user first" in element(html, "bulk-error")
    assert f'id="user-row-{bob["user_id"]}"' in html
    page = bulk_form(client, "/users?q=bo")
    page.check("user_id", bob["user_id"])
    html = text(page.submit(client))
    assert "Choose what to do with the selected users." in element(html, "bulk-error")
    assert bulk_form(client, "/users?q=bo").value("user_id") is None  # a fresh list ticks nothing
    assert forms(html)["bulk-form"].value("user_id") == bob["user_id"]  # the refused one kept the tick
    page.fill("action", "explode")
    assert "Choose what to do" in text(page.submit(client))


def test_too_many_or_a_foreign_back_address_are_handled(admin_client, make_user):
    client, _ = admin_client
    bob = make_user("bob")
    token = csrf_token(text(client.get("/users")))
    many = [("user_id", f"zusr{i:024d}") for i in range(101)]
    response = client.post("/users/bulk", data=MultiDict([("csrf_token", token), ("action", "unlock"), *many]))
    assert response.status_code == 422 and "Not done: at most 100 users at a time" in text(response)
    data = {"csrf_token": token, "action": "unlock", "user_id": bob["user_id"], "back": "https://evil.example/users"}
    html = text(client.post("/users/bulk", data=data))
    assert "1 no change." in html and 'href="/users"' in element(html, "bulk-back")


def test_the_bulk_form_checks_csrf_and_is_for_super_users_only(admin_client, alice_client, make_user, sso, admin_ust):
    client, _ = admin_client
    bob = make_user("bob")
    page = bulk_form(client)
    page.check("user_id", bob["user_id"]).fill("action", "unlock")
    without = [(name, value) for name, value in page.data() if name != "csrf_token"]
    assert client.post("/users/bulk", data=MultiDict(without)).status_code == 400
    regular, _ = alice_client
    token = csrf_token(text(regular.get("/account")))
    data = {"csrf_token": token, "action": "lock", "user_id": bob["user_id"], "confirmed": "1"}
    assert regular.post("/users/bulk", data=data).status_code == 403
    assert stored(sso, admin_ust, bob["user_id"])["is_locked"] is False
