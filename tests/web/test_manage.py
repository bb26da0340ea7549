"""Manage user: super-users only; list and search; every attribute; quick actions; passwords; history."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from werkzeug.datastructures import MultiDict

from webapp.sso import Service

from .conftest import web_login
from .html_forms import csrf_token, element, form, forms, text
from .test_account import audit_rows, stored

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def test_a_regular_user_gets_403_on_every_manage_page(alice_client, make_user):
    client, alice = alice_client
    bob = make_user("bob", password=None)
    token = csrf_token(text(client.get("/account")))
    for path in ("/users", "/users/new", f"/users/{bob['user_id']}", f"/users/{alice['user_id']}"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "<h1>Not allowed</h1>" in text(response)
    for path, data in (
        (f"/users/{bob['user_id']}", {"display_name": "x"}),
        (f"/users/{bob['user_id']}/quick", {"action": "lock"}),
        (f"/users/{bob['user_id']}/password", {"new_password": "Whatever-123", "confirm_password": "Whatever-123"}),
        ("/users/new", {"username": "eve"}),
        ("/validate/user/email", {"email": "x"}),
    ):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert 'id="nav-users"' not in text(client.get("/account"))


def test_the_list_finds_users_by_username_email_or_name(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    carol = make_user("carol", password=None)
    make_user("dave", password=None)
    sso.user.update_user_by_id(
        "cid", carol["user_id"], {"email": "c.smith@example.com", "last_name": "Ávila"}, admin_ust, "CRM", "::1"
    )
    html = text(client.get("/users"))
    assert "<h1>Manage users</h1>" in html and "carol" in html and "dave" in html
    for query in ("caro", "SMITH@", "ávila", "ÁVILA"):
        html = text(client.get("/users", query_string={"q": query}))
        assert f'id="user-row-{carol["user_id"]}"' in html and ">dave<" not in html, query
    assert "No users match." in text(client.get("/users", query_string={"q": "zzz"}))


def test_the_list_filters_by_lock_and_approval(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    erin = make_user("erin", password=None)
    frank = make_user("frank", password=None)
    sso.user.update_user_by_id("cid", erin["user_id"], {"is_locked": True}, admin_ust, "CRM", "::1")
    sso.user.update_user_by_id("cid", frank["user_id"], {"approval_status": "rejected"}, admin_ust, "CRM", "::1")
    html = text(client.get("/users", query_string={"locked": "yes"}))
    assert ">erin<" in html and ">frank<" not in html
    html = text(client.get("/users", query_string={"approval": "rejected"}))
    assert ">frank<" in html and ">erin<" not in html
    response = client.get("/users", query_string={"approval": "maybe"})
    assert response.status_code == 422 and "must be one of" in text(response)


def test_the_list_pages_through_many_users(admin_client, make_user):
    client, _admin = admin_client
    for number in range(25):
        make_user(f"user{number:02d}", password=None)
    html = text(client.get("/users"))
    assert "26 users · page 1 of 2" in html  # admin and 25 more, 20 a page
    assert 'id="page-next"' in html and 'href="/users?page=2"' in html
    html = text(client.get("/users?page=2"))
    assert "page 2 of 2" in html and 'id="page-prev"' in html and ">user24<" in html


def test_live_search_answers_only_the_results(admin_client, make_user):
    client, _admin = admin_client
    make_user("gina", password=None)
    response = client.get("/users", query_string={"q": "gin"}, headers={**HX, "HX-Target": "section#user-results"})
    html = text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="user-results"') and "<html" not in html and ">gina<" in html


def test_the_edit_page_shows_every_attribute_with_safe_controls(admin_client, make_user):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    html = text(client.get(f"/users/{bob['user_id']}"))
    assert "<h1>User bob</h1>" in html
    for name in (
        "username",
        "email",
        "display_name",
        "first_name",
        "middle_name",
        "last_name",
        "password_expiry",
        "sign_up_status",
        "approval_status",
    ):
        assert f'id="f-{name}"' in html, name
    for name in ("is_locked", "password_must_change"):
        for suffix in ("unchanged", "yes", "no"):
            assert f'id="f-{name}-{suffix}"' in html
    assert 'id="f-is_locked-unchanged" name="is_locked" value="" checked' in html
    assert '<option value="" selected>Unchanged (now: Approved)</option>' in html
    assert 'type="datetime-local"' in html and "(UTC)" in html and "Never expires" in html
    for control in ("lock-button", "reject-button", "set-password-form", "history"):
        assert f'id="{control}"' in html


def test_unchanged_controls_write_nothing_and_yes_locks(app, admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    assert page.submit(client).status_code == 303
    assert audit_rows(app, bob["user_id"]) == []
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    page.check("is_locked", "true")
    assert page.submit(client).status_code == 303
    now = stored(sso, admin_ust, bob["user_id"])
    assert now["is_locked"] is True and now["locked_by"] is not None
    assert audit_rows(app, bob["user_id"])[-1]["changes"] == {"is_locked": {"old": False, "new": True}}


def test_a_select_sets_an_enum_and_records_who_decided(admin_client, make_user, sso, admin_ust):
    client, admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    page.fill("approval_status", "before_decision").fill("sign_up_status", "before_confirmation")
    assert page.submit(client).status_code == 303
    now = stored(sso, admin_ust, bob["user_id"])
    assert now["approval_status"] == "before_decision" and now["sign_up_status"] == "before_confirmation"
    assert now["approval_status_mod_by"] == admin["user_id"]


def test_password_expiry_is_a_utc_datetime_and_clear_means_never(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob")
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    assert page.value("clear_password_expiry") is None
    page.fill("password_expiry", "2031-02-03T04:05")  # what a browser sends when seconds are 0
    assert page.submit(client).status_code == 303
    assert stored(sso, admin_ust, bob["user_id"])["password_expiry"] == datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    assert page.value("password_expiry") == "2031-02-03T04:05:00"
    page.fill("password_expiry", "2031-02-03T04:05")  # same moment, other spelling: not a change
    response = page.submit(client)
    assert "Nothing to save" in text(client.get(response.headers["Location"]))
    page.check("clear_password_expiry")
    assert page.submit(client).status_code == 303
    assert stored(sso, admin_ust, bob["user_id"])["password_expiry"] is None
    html = text(client.get(f"/users/{bob['user_id']}"))
    assert "never expires (not set)" in html
    page = forms(html)["user-form"]
    page.fill("password_expiry", "tomorrow").check("clear_password_expiry", on=False)
    response = page.submit(client)
    assert response.status_code == 422 and "whole date and time" in element(text(response), "f-password_expiry-error")


def quick_form(client, user_id: str, action: str):
    """The form that makes a quick action happen: lock and reject are on the confirmation page their link opens."""
    path = f"/users/{user_id}"
    if action in ("lock", "reject"):
        html = text(client.get(path))
        link = re.search(r'id="' + action + r'-button"\s+href="([^"]+)"', html)
        assert link is not None
        path = unescape(link.group(1))
    return form(client, path, f"{action}-form")


@pytest.mark.parametrize("year", ["0001", "0999", "9999"])
def test_a_stored_expiry_with_a_short_or_long_year_keeps_the_form_savable(
    admin_client, make_user, sso, admin_ust, year
):
    """glibc's strftime wrote the year 1 as "1": the box then sent "" and every save of that user failed."""
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    expiry = f"{year}-01-02T03:04:05"
    sso.user.update_user_by_id("cid", bob["user_id"], {"password_expiry": expiry}, admin_ust, "CRM", "::1")
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    # what a browser's datetime-local box takes (it sends "" for anything else, and the save then fails)
    assert page.value("password_expiry") == expiry
    page.fill("first_name", "Robert")
    assert page.submit(client).status_code == 303
    now = stored(sso, admin_ust, bob["user_id"])
    assert now["first_name"] == "Robert" and str(now["password_expiry"]).startswith(f"{year}-01-02")


def test_quick_actions_lock_unlock_approve_and_reject(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    for action, check in (
        ("lock", lambda u: u["is_locked"] is True),
        ("unlock", lambda u: u["is_locked"] is False and u["locked_time"] is None),
        ("reject", lambda u: u["approval_status"] == "rejected"),
        ("approve", lambda u: u["approval_status"] == "approved"),
    ):
        response = quick_form(client, bob["user_id"], action).submit(client)
        assert response.status_code == 303, action
        assert check(stored(sso, admin_ust, bob["user_id"])), action


def test_a_quick_action_whose_premise_changed_writes_nothing(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    approve = quick_form(client, bob["user_id"], "reject")
    sso.user.update_user_by_id("cid", bob["user_id"], {"approval_status": "before_decision"}, admin_ust, "CRM", "::1")
    response = approve.submit(client)
    assert response.status_code == 409
    assert "Nothing was written" in element(text(response), "action-error")
    assert stored(sso, admin_ust, bob["user_id"])["approval_status"] == "before_decision"


def test_a_quick_action_merges_with_other_changes(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    lock = quick_form(client, bob["user_id"], "lock")
    sso.user.update_user_by_id("cid", bob["user_id"], {"display_name": "Bobby"}, admin_ust, "CRM", "::1")
    assert lock.submit(client).status_code == 303
    now = stored(sso, admin_ust, bob["user_id"])
    assert now["is_locked"] is True and now["display_name"] == "Bobby"


@pytest.mark.parametrize("version", ["x1", "\u00b2", "9" * 40])
def test_a_quick_action_with_an_unreadable_version_is_refused_not_done_unchecked(
    admin_client, make_user, sso, admin_ust, version
):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    lock = quick_form(client, bob["user_id"], "lock")
    data = [(name, version if name == "version" else value) for name, value in lock.data()]  # a hidden input
    response = client.post(lock.action, data=MultiDict(data))
    assert response.status_code == 422
    assert "version" in element(text(response), "action-error")
    assert stored(sso, admin_ust, bob["user_id"])["is_locked"] is False


def test_setting_a_password_that_must_change_forces_a_new_one_at_login(app, admin_client, make_user):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "set-password-form")
    page.fill("new_password", "Given-Secret-11").fill("confirm_password", "Given-Secret-11")
    page.fill("expiry_days", "30").check("must_change")
    response = page.submit(client)
    assert response.status_code == 303
    assert "Password set. They must choose a new one" in text(client.get(response.headers["Location"]))
    html = text(web_login(app.test_client(), "bob", "Given-Secret-11"))
    assert "<h1>Choose a new password</h1>" in html


def test_a_bad_new_password_is_shown_on_its_field(admin_client, make_user):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "set-password-form")
    page.fill("new_password", "my password").fill("confirm_password", "my password")
    response = page.submit(client)
    assert response.status_code == 422
    assert "common word" in element(text(response), "set-password-error")
    page.fill("new_password", "Given-Secret-11").fill("confirm_password", "Given-Secret-11").fill("expiry_days", "x")
    response = page.submit(client)
    assert response.status_code == 422
    assert "whole number" in element(text(response), "set-password-expiry-days-error")


def test_creating_a_user_leaves_empty_optional_fields_not_set(admin_client, sso, admin_ust):
    client, _admin = admin_client
    page = form(client, "/users/new", "create-form")
    assert page.value("auto_approve") == "y"
    page.fill("username", "newbie").fill("display_name", "New Bie").fill("password", "Starter-Pass-99")
    page.fill("password_confirm", "Starter-Pass-99")
    response = page.submit(client)
    assert response.status_code == 303
    html = text(client.get(response.headers["Location"]))
    assert "Created user newbie." in html and "<h1>User newbie</h1>" in html
    found = sso.user.search("cid", {"username": "newbie"}, admin_ust, "CRM", "::1")["result"][0]
    assert found["display_name"] == "New Bie" and found["email"] is None and found["approval_status"] == "approved"
    assert sso.user.login("cid", "newbie", "Starter-Pass-99", "CRM", "::1").ust


def test_create_user_errors_are_shown_on_their_fields(admin_client, make_user):
    client, _admin = admin_client
    make_user("taken", password=None)
    page = form(client, "/users/new", "create-form")
    page.fill("username", "TAKEN")
    response = page.submit(client)
    assert response.status_code == 422 and "is already taken" in element(text(response), "f-username-error")
    page.fill("username", "fine").fill("email", "bad")
    response = page.submit(client)
    assert response.status_code == 422 and "valid email" in element(text(response), "f-email-error")
    page.fill("email", "").fill("password", "short")
    response = page.submit(client)
    assert response.status_code == 422 and "at least 8" in element(text(response), "f-password-error")


def test_the_audit_history_shows_old_and_new_who_when_where_and_channel(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    sso.user.update_user_by_id(
        "cid", bob["user_id"], {"display_name": "Robert"}, admin_ust, "CRM", "10.0.0.9", channel="api"
    )
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    page.fill("display_name", "Bob")
    page.submit(client, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    html = text(client.get(f"/users/{bob['user_id']}"))
    history = html[html.index('id="history"') :]
    assert '<span class="value">Robert</span>' in history and '<span class="value">Bob</span>' in history
    assert "root" in history and "admin" in history
    assert "JSON API" in history and "web console" in history
    assert "10.0.0.9" in history and "192.0.2.7" in history
    assert "UTC" in history and '<span class="value-null">not set</span>' in history


def test_an_unknown_user_id_is_404(admin_client):
    client, _admin = admin_client
    response = client.get("/users/zusrnosuchuser")
    assert response.status_code == 404 and "<h1>No such user</h1>" in text(response)


def test_a_manage_save_sends_only_the_changed_attribute(app, admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    sso.user.update_user_by_id(
        "cid", bob["user_id"], {"is_locked": True, "email": "b@example.com"}, admin_ust, "CRM", "::1"
    )
    page.fill("first_name", "Bo")
    assert page.submit(client).status_code == 303
    now = stored(sso, admin_ust, bob["user_id"])
    assert now["is_locked"] is True and now["email"] == "b@example.com" and now["first_name"] == "Bo"
    assert audit_rows(app, bob["user_id"])[-1]["changes"] == {"first_name": {"old": None, "new": "Bo"}}


def test_a_manage_conflict_on_a_select_shows_yours_and_theirs(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    sso.user.update_user_by_id("cid", bob["user_id"], {"approval_status": "rejected"}, admin_ust, "CRM", "::1")
    page.fill("approval_status", "before_decision")
    response = page.submit(client, headers=HX)
    assert response.status_code == 409
    html = text(response)
    assert html.lstrip().startswith('<form id="user-form"')
    assert 'Yours: <span class="value">Waiting for a decision</span>' in html
    assert 'Theirs (saved now): <span class="value">Rejected</span>' in html
    assert stored(sso, admin_ust, bob["user_id"])["approval_status"] == "rejected"
    again = forms(html)["user-form"]
    again.check("resolve_approval_status", "mine")
    response = again.submit(client, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Location"] == f"/users/{bob['user_id']}"
    assert stored(sso, admin_ust, bob["user_id"])["approval_status"] == "before_decision"


def test_booleans_changed_the_same_way_by_two_people_are_not_a_conflict(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    sso.user.update_user_by_id("cid", bob["user_id"], {"password_must_change": True}, admin_ust, "CRM", "::1")
    page.check("password_must_change", "true")
    response = page.submit(client)
    assert response.status_code == 303
    assert "Nothing to save: those values were already stored." in text(client.get(response.headers["Location"]))


def test_my_own_record_sends_me_to_change_password(admin_client):
    client, admin = admin_client
    html = text(client.get(f"/users/{admin['user_id']}"))
    assert 'id="own-password-link"' in html and 'id="set-password-form"' not in html
    token = csrf_token(html)
    response = client.post(
        f"/users/{admin['user_id']}/password",
        data={"csrf_token": token, "new_password": "x" * 10, "confirm_password": "x" * 10},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/account/password"


def test_inline_validation_for_the_create_form(admin_client):
    client, _admin = admin_client
    token = csrf_token(text(client.get("/users/new")))
    html = text(client.post("/validate/create/username", data={"csrf_token": token, "username": "a b"}, headers=HX))
    assert "must not contain whitespace" in element(html, "f-username-error")
    html = text(client.post("/validate/create/email", data={"csrf_token": token, "email": ""}, headers=HX))
    assert 'id="f-email-error" hidden' in html  # empty is "not set" when creating


@pytest.mark.parametrize("path", ["/users/new", "/users"])
def test_manage_pages_have_one_clear_heading(admin_client, path):
    client, _admin = admin_client
    assert text(client.get(path)).count("<h1>") == 1


def test_inline_validation_of_a_datetime_uses_the_service_rule(admin_client, make_user):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    page.fill("password_expiry", "31/02/2030")
    data = dict(page.data())
    html = text(client.post("/validate/user/password_expiry", data=data, headers=HX))
    assert html.lstrip().startswith('<div class="field has-error"') and "whole date and time" in html
    page.fill("password_expiry", "2030-02-28T10:00")
    html = text(client.post("/validate/user/password_expiry", data=dict(page.data()), headers=HX))
    assert 'id="f-password_expiry-error" hidden' in html


def _section(html: str, section_id: str) -> str:
    """The markup of the <section id=section_id> ... </section> (sections do not nest here)."""
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_an_htmx_conflict_also_refreshes_the_record_and_history_out_of_band(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    full = text(client.get(f"/users/{bob['user_id']}"))
    assert "hx-swap-oob" not in full  # the whole page swaps nothing out of band
    assert 'id="record-card"' in full and 'id="history-card"' in full
    page = forms(full)["user-form"]
    sso.user.update_user_by_id(
        "cid", bob["user_id"], {"approval_status": "rejected", "is_locked": True}, admin_ust, "CRM", "10.0.0.9"
    )
    page.fill("approval_status", "before_decision")
    response = page.submit(client, headers=HX)
    assert response.status_code == 409
    html = text(response)
    assert html.lstrip().startswith('<form id="user-form"')
    version = stored(sso, admin_ust, bob["user_id"]).version
    record = _section(html, "record-card")
    assert record.startswith('id="record-card" aria-labelledby="facts-heading" hx-swap-oob="true"')
    assert f'<dd id="user-version">{version}</dd>' in record and "by <span" in record
    history = _section(html, "history-card")
    assert history.startswith('id="history-card" aria-labelledby="history-heading" hx-swap-oob="true"')
    assert "root" in history and "10.0.0.9" in history and '<span class="value">Rejected</span>' in history
    assert 'id="user-badges" hx-swap-oob="true"' in html and 'id="user-locked-badge"' in html
    assert 'id="actions-card" aria-labelledby="actions-heading" hx-swap-oob="true"' in html
    assert 'id="unlock-button"' in html and f'name="version" value="{version}"' in _section(html, "actions-card")

    # A refused save (422) refreshes them too.
    again = forms(html)["user-form"]
    again.check("resolve_approval_status", "mine").fill("email", "not an email")
    response = again.submit(client, headers=HX)
    assert response.status_code == 422
    assert 'id="record-card" aria-labelledby="facts-heading" hx-swap-oob="true"' in text(response)
    assert 'id="history-card" aria-labelledby="history-heading" hx-swap-oob="true"' in text(response)


def test_the_record_and_history_name_users_by_username_with_the_id_kept(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    root_id = sso.user.get_current_user("cid", admin_ust, "CRM", "::1")["user_id"]
    sso.user.update_user_by_id(
        "cid", bob["user_id"], {"is_locked": True, "approval_status": "rejected"}, admin_ust, "CRM", "::1"
    )
    html = text(client.get(f"/users/{bob['user_id']}"))
    record = _section(html, "record-card")
    assert record.count(f'by <span class="user-ref" title="{root_id}">root</span>') == 2
    assert f"<code>{root_id}</code>" not in record
    assert f'<span class="actor" title="{root_id}">root</span>' in _section(html, "history-card")
    # On My account, whom the super-user changed reads as a username too (the link keeps the id).
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    page.fill("display_name", "Bobby")
    assert page.submit(client).status_code == 303
    history = _section(text(client.get("/account")), "history-card")
    assert f'href="/users/{bob["user_id"]}" class="target-link" title="{bob["user_id"]}">bob</a>' in history
    assert f">{bob['user_id']}<" not in history


def test_usernames_come_with_the_page_data_without_a_lookup_per_row(app, admin_client, make_user, monkeypatch):
    client, _admin = admin_client
    targets = [make_user(name, password=None) for name in ("bob", "carol")]
    for target in targets:  # two rows for each target on the super-user's own activity
        for value in ("One", "Two"):
            page = form(client, f"/users/{target['user_id']}", "user-form")
            page.fill("display_name", value)
            assert page.submit(client).status_code == 303
    calls: list[dict] = []
    search = Service.search

    def counted_search(service, criteria):
        calls.append(criteria)
        return search(service, criteria)

    monkeypatch.setattr(Service, "search", counted_search)  # what the console calls
    history = _section(text(client.get("/account")), "history-card")
    assert history.count('class="target-link"') == 4 and ">bob</a>" in history and ">carol</a>" in history
    assert calls == []  # audit records carry the target's username
    calls.clear()
    text(client.get(f"/users/{targets[0]['user_id']}"))
    assert calls == []  # every id on it is already known from the page's own data


def test_saving_a_rendered_form_does_not_read_the_user_first_unless_someone_saved_meanwhile(
    app, admin_client, make_user, sso, admin_ust, monkeypatch
):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    reads: list[str] = []
    get_user_by_id = Service.get_user_by_id

    def counted_get_user_by_id(service, user_id):
        reads.append(user_id)
        return get_user_by_id(service, user_id)

    monkeypatch.setattr(Service, "get_user_by_id", counted_get_user_by_id)  # what the console calls

    page = form(client, f"/users/{bob['user_id']}", "user-form")
    reads.clear()
    page.fill("display_name", "Bobby")
    assert page.submit(client).status_code == 303
    assert reads == []  # the form's version and originals say what changed; the write checks the version

    page = form(client, f"/users/{bob['user_id']}", "user-form")
    sso.user.update_user_by_id("cid", bob["user_id"], {"last_name": "Builder"}, admin_ust, "CRM", "::1")
    reads.clear()
    page.fill("first_name", "Rob")
    assert page.submit(client).status_code == 303
    assert reads == [bob["user_id"]]  # the version had moved: read once to merge
    after = stored(sso, admin_ust, bob["user_id"])
    assert (after["first_name"], after["last_name"]) == ("Rob", "Builder")


def test_a_refused_save_on_manage_user_lists_the_bad_field_with_a_link_to_it(admin_client, make_user):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    page = form(client, f"/users/{bob['user_id']}", "user-form")
    page.fill("email", "not an email")
    response = page.submit(client)
    assert response.status_code == 422
    summary = text(response).split('id="field-errors"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#f-email">Email</a>' in summary
