"""Manage users in a real browser: search (live with htmx), open, lock, expiry, history, create, set password."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from .ui import choose, field_state, flash, signed_in, type_into


def admin_page(pages, live, js):
    admin = live.user("admin", super_user=True)
    return signed_in(pages.new(js=js), admin["username"]), admin


def test_search_and_open_a_user(pages, live, js):
    token = f"srch{uuid.uuid4().hex[:6]}"
    anna = live.user(f"{token}-anna", display_name="Anna Example")
    bert = live.user(f"{token}-bert", display_name="Bert Example")
    page, _ = admin_page(pages, live, js)
    page.click("#nav-users")
    page.wait_for_url("**/users")
    expect(page.locator("h1")).to_have_text("Manage users")
    if js:
        # Live search: typing alone updates the rows and the address (no button pressed).
        page.locator("#q").press_sequentially(token, delay=20)
        expect(page.locator("#user-table tbody tr")).to_have_count(2)
        page.locator("#q").press_sequentially("-an", delay=20)
        expect(page.locator("#user-table tbody tr")).to_have_count(1)
        expect(page).to_have_url(re.compile(rf"/users\?q={token}-an(&|$)"))
        assert any(sent.startswith(f"GET /users?q={token}") for sent in page.htmx)
    else:
        page.fill("#q", f"{token}-an")
        page.click("#search-submit")
        page.wait_for_url(f"**/users?q={token}-an**")
        expect(page.locator("#user-table tbody tr")).to_have_count(1)
    expect(page.locator("#result-count")).to_contain_text("1 user")
    expect(page.locator(f"#user-row-{bert['user_id']}")).to_have_count(0)
    row = page.locator(f"#user-row-{anna['user_id']}")
    expect(row).to_contain_text("Anna Example")
    row.locator("a.user-link").click()
    page.wait_for_url(f"**/users/{anna['user_id']}")
    expect(page.locator("h1")).to_have_text(f"User {anna['username']}")
    expect(page.locator("#f-display_name")).to_have_value("Anna Example")


def test_search_filters_and_paging(pages, live, js):
    token = f"page{uuid.uuid4().hex[:6]}"
    made = [live.user(f"{token}-{i:02d}", password=None) for i in range(21)]
    live.update(made[3]["user_id"], {"is_locked": True})
    page, _ = admin_page(pages, live, js)
    page.goto(f"/users?q={token}")
    expect(page.locator("#result-count")).to_contain_text("21 users · page 1 of 2")
    expect(page.locator("#user-table tbody tr")).to_have_count(20)
    expect(page.locator("#page-prev")).to_have_count(0)
    page.click("#page-next")
    expect(page.locator("#result-count")).to_contain_text("page 2 of 2")
    expect(page.locator("#user-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"page=2"))
    page.click("#page-prev")
    expect(page.locator("#result-count")).to_contain_text("page 1 of 2")
    # The locked filter.
    page.select_option("#locked", "yes")
    page.click("#search-submit")
    expect(page.locator("#user-table tbody tr")).to_have_count(1)
    expect(page.locator(f"#user-row-{made[3]['user_id']}")).to_contain_text("Locked")


def test_lock_expiry_and_history(pages, live, js):
    target = live.user("target", email="target@example.com")
    page, admin = admin_page(pages, live, js)
    page.goto(f"/users/{target['user_id']}")
    expect(page.locator("#user-locked-badge")).to_have_count(0)

    # Lock with the quick action.
    page.click("#lock-button")
    page.click("#confirm-button")  # the confirmation page says what happens
    expect(flash(page)).to_contain_text("Locked.")
    expect(page.locator("#user-locked-badge")).to_be_visible()
    expect(page.locator("#unlock-button")).to_be_visible()
    # Who locked reads as a username; the id stays in the title.
    expect(page.locator("#user-facts")).to_contain_text(f"by {admin['username']}")
    expect(page.locator("#user-facts .user-ref").first).to_have_attribute("title", admin["user_id"])
    stored = live.get(target["user_id"])
    assert stored["is_locked"] is True and stored["locked_by"] == admin["user_id"]
    assert live.login_error(target["username"], "Correct-Horse-9") is not None

    # Set a password expiry (a new user's password expires after SSO_PASSWORD_EXPIRY_DAYS).
    assert stored["password_expiry"] is not None
    type_into(page, "password_expiry", "2031-05-06T07:08:09")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Password expiry.")
    expect(page.locator("#user-facts")).to_contain_text("2031-05-06 07:08:09 UTC")
    expect(page.locator("#f-password_expiry")).to_have_value("2031-05-06T07:08:09")
    expect(page.locator("#f-password_expiry-clear")).not_to_be_checked()
    assert live.get(target["user_id"])["password_expiry"] == datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)

    # Clear it again: never expires.
    page.check("#f-password_expiry-clear")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Password expiry.")
    expect(field_state(page, "password_expiry")).to_have_text("never expires (not set)")
    expect(page.locator("#user-facts")).to_contain_text("never (not set)")
    assert live.get(target["user_id"])["password_expiry"] is None

    # Unlock.
    page.click("#unlock-button")
    expect(flash(page)).to_contain_text("Unlocked.")
    expect(page.locator("#user-locked-badge")).to_have_count(0)
    assert live.get(target["user_id"])["is_locked"] is False

    # The history: newest first, old → new, who, channel.
    rows = page.locator("#history tbody tr")
    expect(rows.nth(0)).to_contain_text("Locked")
    expect(rows.nth(0)).to_contain_text("web console")
    expect(rows.nth(1)).to_contain_text("Password expiry")
    expect(rows.nth(1)).to_contain_text("2031-05-06 07:08:09 UTC")
    expect(rows.nth(1).locator(".value-null")).to_have_text("never (not set)")
    expect(rows.nth(2)).to_contain_text("Password expiry")
    expect(rows.nth(2).locator(".value").last).to_have_text("2031-05-06 07:08:09 UTC")
    expect(rows.nth(3)).to_contain_text("Locked")
    expect(rows.nth(3)).to_contain_text(admin["username"])
    expect(rows.nth(3)).to_contain_text("127.0.0.1")
    expect(rows.last).to_contain_text("Created")


def test_tristate_and_select_fields(pages, live, js):
    target = live.user("tri")
    page, _ = admin_page(pages, live, js)
    page.goto(f"/users/{target['user_id']}")
    expect(page.locator("#f-password_must_change-unchanged")).to_be_checked()
    choose(page, "f-password_must_change-yes")
    page.select_option("#f-approval_status", "rejected")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved:")
    expect(page.locator("#user-approval-badge")).to_have_text("Rejected")
    expect(page.locator("#f-password_must_change-unchanged")).to_be_checked()  # a fresh form writes nothing
    stored = live.get(target["user_id"])
    assert stored["password_must_change"] is True and stored["approval_status"] == "rejected"
    assert stored["is_locked"] is False  # "unchanged" was not sent
    page.click("#approve-button")
    expect(flash(page)).to_contain_text("Approved.")
    assert live.get(target["user_id"])["approval_status"] == "approved"


def test_create_a_user(pages, live, js):
    page, _ = admin_page(pages, live, js)
    page.goto("/users")
    page.click("#create-user-link")
    page.wait_for_url("**/users/new")
    name = f"new-{uuid.uuid4().hex[:8]}"
    page.fill("#f-username", name)
    page.fill("#f-email", f"{name}@example.com")
    page.fill("#f-password", "Brand-New-Pass-7")
    page.fill("#f-password_confirm", "Brand-New-Pass-7")
    page.uncheck("#f-auto_approve")
    page.check("#f-password_must_change")
    page.click("#create-submit")
    page.wait_for_url(re.compile(r"/users/zusr"))
    expect(flash(page)).to_contain_text(f"Created user {name}.")
    expect(page.locator("h1")).to_have_text(f"User {name}")
    expect(page.locator("#user-approval-badge")).to_have_text("Waiting for a decision")
    user_id = page.locator("#user-id").inner_text()
    stored = live.get(user_id)
    assert stored["email"] == f"{name}@example.com" and stored["display_name"] is None
    assert stored["password_must_change"] is True and stored["approval_status"] == "before_decision"
    expect(field_state(page, "display_name")).to_have_text("not set")


def test_set_password_with_expiry_and_must_change(pages, live, js):
    target = live.user("setpw")
    page, _ = admin_page(pages, live, js)
    page.goto(f"/users/{target['user_id']}")
    page.fill("#set-password", "Tangerine-Rocket-58")
    page.fill("#set-password-confirm", "Tangerine-Rocket-58")
    page.fill("#set-password-expiry-days", "10")
    page.check("#set-password-must-change")
    page.click("#set-password-submit")
    expect(flash(page)).to_contain_text("Password set. They must choose a new one at their next login.")
    stored = live.get(target["user_id"])
    assert stored["password_must_change"] is True
    expiry = stored["password_expiry"]
    assert timedelta(days=9) < expiry - datetime.now(UTC) <= timedelta(days=10)
    expect(page.locator("#user-facts")).to_contain_text(expiry.strftime("%Y-%m-%d"))
    assert live.login_error(target["username"], "Tangerine-Rocket-58") == ["E003007"]
