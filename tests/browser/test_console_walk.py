"""Issue 31, item 14: what a demanding administrator and end-user found in the console with a real browser
(typed edits and the unsaved-changes guard, a device's "Sign out" on a phone, tables scrolled with the
keyboard). The pages' axe walk is test_accessibility.py's; the rest of the item is tests/web/test_console_walk.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from .ui import axe_check, signed_in, unique

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)

PHONE = {"width": 390, "height": 800}


def test_a_typed_edit_still_asks_before_leaving_after_the_inline_check_redrew_the_field(pages, live):
    target = live.user("walk-unsaved")
    admin = live.user("walk-admin", super_user=True)
    page = signed_in(pages.new(), admin["username"], landing=f"/users/{target['user_id']}")
    page.stay_on_unload = True  # type: ignore[attr-defined]  # answer "stay" to the warning
    box = page.locator("#f-display_name")
    with page.expect_response(re.compile(r"/validate/")):
        box.click()
        page.keyboard.type("Typed Name")
    # The inline check has redrawn the field with what was typed as the box's own value (what made the
    # guard blind): wait for that, so the test leaves after the pause, as the person did.
    expect(box).to_have_attribute("value", "Typed Name")
    try:
        with page.expect_event("dialog"):
            page.click("#back-to-users")
    except PlaywrightTimeoutError:
        raise AssertionError(f"left without a warning; console: {page.console}") from None  # type: ignore[attr-defined]
    assert page.dialogs == ["beforeunload"]  # type: ignore[attr-defined]
    expect(page).to_have_url(re.compile(rf"/users/{target['user_id']}$"))
    expect(box).to_have_value("Typed Name")
    # Typing the stored value back is no edit: leaving then asks nothing.
    box.fill("")
    with page.expect_response(re.compile(r"/validate/")):
        page.check("#f-display_name-clear")
    page.wait_for_timeout(600)  # longer than the inline check's delay: its redraw too has come
    count = len(page.dialogs)  # type: ignore[attr-defined]
    page.click("#back-to-users")
    page.wait_for_url("**/users")
    assert len(page.dialogs) == count  # type: ignore[attr-defined]


def test_a_stored_time_with_zero_seconds_is_no_edit(pages, live):
    """The box shows `...T00:00` for the markup's `...T00:00:00`: leaving without touching it asks nothing."""
    target = live.user("walk-expiry", password_expiry="2099-01-01T00:00:00")
    admin = live.user("walk-admin", super_user=True)
    page = signed_in(pages.new(), admin["username"], landing=f"/users/{target['user_id']}")
    page.stay_on_unload = True  # type: ignore[attr-defined]
    box = page.locator("input[name='password_expiry'][type='datetime-local']")
    expect(box).to_have_value("2099-01-01T00:00")
    page.click("#back-to-users")
    page.wait_for_url("**/users")
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_a_devices_sign_out_button_is_on_a_phone_screen_and_the_table_scrolls_with_the_keyboard(pages, live):
    person = live.user("walk-devices")
    other = signed_in(pages.new(), person["username"])  # a second device to sign out
    page = signed_in(pages.new(viewport=PHONE, axe=True), person["username"])
    del other
    buttons = page.locator("#devices button", has_text="Sign out")
    expect(buttons).to_have_count(1)
    box = buttons.first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    region = page.locator("#devices-card .table-wrap")
    expect(region).to_have_attribute("tabindex", "0")
    expect(region).to_have_attribute("role", "region")
    found = [v for v in axe_check(page, "devices 390px") if v["id"] == "scrollable-region-focusable"]
    assert not found, found
    buttons.first.click()
    expect(page.locator("#messages")).to_contain_text("Signed out")
    expect(page.locator("#devices button", has_text="Sign out")).to_have_count(0)


def test_manage_user_sessions_scroll_with_the_keyboard_on_a_phone(pages, live):
    target = live.user("walk-sessions")
    signed_in(pages.new(), target["username"])
    admin = live.user("walk-sess-adm", super_user=True)
    page = signed_in(pages.new(viewport=PHONE, axe=True), admin["username"], landing=f"/users/{target['user_id']}")
    expect(page.locator("#user-sessions tbody tr")).to_have_count(1)
    found = [v for v in axe_check(page, "user sessions 390px") if v["id"] == "scrollable-region-focusable"]
    assert not found, found


def test_the_api_clients_page_does_not_scroll_sideways_on_a_phone(pages, live):
    name = unique("walk-client-with-a-long-name")
    live.sso.operator.create_api_client(name)
    live.sso.operator.create_scim_client(name, "user-admin")
    admin = live.user("walk-clients", super_user=True)
    page = signed_in(pages.new(viewport=PHONE), admin["username"], landing="/api-clients")
    expect(page.locator("#api-clients-table")).to_contain_text(name)
    expect(page.locator("#scim-clients-table")).to_contain_text(name)
    widths = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], widths
    region = page.locator(".table-wrap:has(#api-clients-table)")
    expect(region).to_have_attribute("tabindex", "0")
    expect(region).to_have_attribute("role", "region")
