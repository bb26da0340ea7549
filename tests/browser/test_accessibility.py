"""axe-core on every console page, light and dark; one <h1> per page; the keyboard alone gets through."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .ui import PASSWORD, axe_check, flash, log_in, signed_in

# Accessibility does not depend on the database: these run on the SQLite server only.
pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def test_axe_finds_no_serious_violations(pages, live):
    must_change = live.user("a11y-new", password_must_change=True)
    admin = live.user("a11y-admin", super_user=True, email="a11y@example.com", display_name="A11y Admin")
    target = live.user("a11y-target", email="target@example.com", display_name="Target", is_locked=True)
    page = pages.new(axe=True)
    problems: dict[str, list] = {}

    def check(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        found = axe_check(page, label)
        if found:
            problems[label] = found

    page.goto("/login")
    check("login")
    log_in(page, "nobody-here", "wrong-password-1", landing=None)
    expect(page.locator("#login-error")).to_be_visible()
    check("login failed")
    log_in(page, must_change["username"], landing=None)
    expect(page.locator("#new-password-form")).to_be_visible()
    check("new password at login")

    signed_in(page, admin["username"])
    check("my account")
    page.fill("#f-email", "not an email")
    # Let inline validation show its message first: it moves the Save button down as it appears.
    expect(page.locator("#f-email-error")).to_be_visible()
    page.click("#save")
    expect(page.locator("#field-errors")).to_be_visible()
    check("my account with errors")
    page.goto("/account/password")
    check("change password")
    page.goto("/users")
    check("users list")
    page.goto("/users/new")
    check("new user")
    page.goto(f"/users/{target['user_id']}")
    check("user edit")
    live.update(target["user_id"], {"display_name": "Changed elsewhere"})
    page.fill("#f-display_name", "Mine")
    page.click("#save")
    expect(page.locator("#conflict-message")).to_be_visible()
    check("user edit conflict")
    page.goto("/logout")
    check("log out")
    page.goto("/users/zusrnosuchuser")
    check("not found")
    assert not problems, problems


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reachable with Tab")


def test_keyboard_only(pages, live):
    admin = live.user("kbd-admin", super_user=True)
    target = live.user("kbd-target")
    page = pages.new()
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    tab_to(page, "#login-username")
    page.keyboard.type(admin["username"])
    page.keyboard.press("Tab")
    expect(page.locator("#login-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/account")

    page.goto(f"/users/{target['user_id']}")
    tab_to(page, "#f-password_must_change-unchanged")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#f-password_must_change-yes")).to_be_checked()
    tab_to(page, "#save")
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("Saved: Password must change.")
    assert live.get(target["user_id"])["password_must_change"] is True


def test_no_page_overflows_a_phone_screen(pages, live):
    admin = live.user(
        "narrow",
        super_user=True,
        email="someone.with.a.rather.long.address@example.com",
        display_name="A display name long enough to wrap on a phone",
    )
    page = pages.new(viewport={"width": 375, "height": 700})
    page.goto("/login")
    widths = {"/login": page.evaluate("[document.documentElement.scrollWidth, innerWidth]")}
    signed_in(page, admin["username"])
    for path in ("/account", "/account/password", "/users", f"/users/{admin['user_id']}", "/users/new"):
        page.goto(path)
        widths[path] = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert all(scroll <= inner for scroll, inner in widths.values()), widths
