"""Logging in and out, and the forced password change at login, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .ui import PASSWORD, flash, log_in

NEW_PASSWORD = "Purple-Giraffe-42"
SQLITE_ONLY = pytest.mark.parametrize("live", ["sqlite"], indirect=True)  # nothing here depends on the database


def test_log_in_and_out(pages, live, js):
    user = live.user("login")
    page = log_in(pages.new(js=js), user["username"])
    expect(page.locator("h1")).to_have_text("My account")
    expect(page.locator("#nav-username")).to_have_text(user["username"])
    expect(page.locator("#nav-users")).to_have_count(0)  # not a super-user
    page.click("#logout-button")
    page.wait_for_url("**/login")
    expect(flash(page)).to_contain_text("You have logged out.")
    page.goto("/account")
    page.wait_for_url("**/login?next=/account")
    expect(page.locator("#login-form")).to_be_visible()


@SQLITE_ONLY
def test_wrong_password_is_refused(pages, live, js):
    user = live.user("badpw")
    page = log_in(pages.new(js=js), user["username"], "not-the-password", landing=None)
    expect(page.locator("#login-error")).to_contain_text("Wrong username or password")
    expect(page.locator("#login-username")).to_have_value(user["username"])
    assert page.url.endswith("/login")


@SQLITE_ONLY
def test_login_returns_to_the_page_asked_for(pages, live, js):
    admin = live.user("nextadm", super_user=True)
    page = pages.new(js=js)
    page.goto("/users")
    page.wait_for_url("**/login?next=/users")
    page.fill("#login-username", admin["username"])
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/users")
    expect(page.locator("h1")).to_have_text("Manage users")


def test_forced_password_change_at_login(pages, live, js):
    user = live.user("mustchg", password_must_change=True)
    page = log_in(pages.new(js=js), user["username"], landing=None)
    expect(page.locator("#new-password-form")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Choose a new password")
    # A mismatch is refused and nothing changes.
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#new-password-confirm", NEW_PASSWORD + "x")
    page.click("#new-password-submit")
    expect(page.locator("#new-password-confirm-error")).to_contain_text("does not match")
    assert live.get(user["user_id"])["password_must_change"] is True
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#new-password-confirm", NEW_PASSWORD)
    page.click("#new-password-submit")
    page.wait_for_url("**/account")
    expect(flash(page)).to_contain_text("Your new password is set.")
    stored = live.get(user["user_id"])
    assert stored["password_must_change"] is False
    assert live.login_error(user["username"], NEW_PASSWORD) is None
    assert live.login_error(user["username"], PASSWORD) is not None


def test_change_own_password(pages, live, js):
    user = live.user("ownpw")
    page = log_in(pages.new(js=js), user["username"])
    page.click("#nav-password")
    page.wait_for_url("**/account/password")
    page.fill("#old-password", PASSWORD)
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#confirm-password", NEW_PASSWORD)
    page.click("#password-submit")
    page.wait_for_url("**/account")
    expect(flash(page)).to_contain_text("Your password has been changed.")
    assert live.login_error(user["username"], NEW_PASSWORD) is None
