"""Lifecycle and sessions in Chromium, with JavaScript and without: sign out another device, delete a user
after confirming, the self-lock refusal; axe and the keyboard on the new pages (light and dark)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .ui import PASSWORD, axe_check, flash, signed_in, unique

# None of this depends on the database: the SQLite server only.
pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1"


def test_signing_out_another_device(pages, live, js):
    person = live.user("devices")
    laptop = signed_in(pages.new(js=js), person["username"])
    phone = signed_in(pages.new(js=js, user_agent=PHONE_UA), person["username"])
    laptop.goto("/account")
    rows = laptop.locator("#devices tbody tr")
    expect(rows).to_have_count(2)
    expect(laptop.locator("#this-device")).to_have_count(1)
    phone_row = rows.filter(has_text="Safari on iOS")
    expect(phone_row).to_have_count(1)
    phone_row.get_by_role("button", name="Sign out").click()
    expect(flash(laptop)).to_contain_text("Signed out that device.")
    expect(laptop.locator("#devices tbody tr")).to_have_count(1)
    expect(laptop.locator("#end-others-form")).to_have_count(0)

    phone.goto("/account")
    phone.wait_for_url("**/login**")
    expect(flash(phone)).to_contain_text("Your session has ended")
    laptop.goto("/account")
    expect(laptop.locator("h1")).to_have_text("My account")


def test_signing_out_everywhere_else(pages, live, js):
    person = live.user("elsewhere")
    here = signed_in(pages.new(js=js), person["username"])
    others = [signed_in(pages.new(js=js), person["username"]) for _ in range(2)]
    here.goto("/account")
    here.click("#end-others-button")
    expect(flash(here)).to_contain_text("Signed out 2 other sessions.")
    for other in others:
        other.goto("/account")
        other.wait_for_url("**/login**")
    here.reload()
    expect(here.locator("#devices tbody tr")).to_have_count(1)


def test_deleting_a_user_after_confirming(pages, live, js):
    admin = live.user("deleter", super_user=True)
    target = live.user("doomed")
    page = signed_in(pages.new(js=js), admin["username"], landing=f"/users/{target['user_id']}")
    page.click("#delete-button")
    expect(page.locator("h1")).to_have_text(f"Delete {target['username']}?")
    expect(page.locator("#consequences")).to_contain_text("cannot be undone")
    page.click("#cancel-button")
    expect(page.locator("h1")).to_have_text(f"User {target['username']}")
    assert live.login_error(target["username"], PASSWORD) is None

    page.click("#delete-button")
    page.click("#confirm-button")
    page.wait_for_url("**/users")
    expect(flash(page)).to_contain_text(f"Deleted user {target['username']}.")
    assert live.login_error(target["username"], PASSWORD) == ["E005001"]
    page.goto(f"/users/{target['user_id']}")
    expect(page.locator("h1")).to_have_text("No such user")


def test_a_super_user_cannot_lock_themselves(pages, live, js):
    admin = live.user("selflock", super_user=True)
    page = signed_in(pages.new(js=js), admin["username"], landing=f"/users/{admin['user_id']}")
    expect(page.locator("#lock-button")).to_have_count(0)  # not offered on one's own record, and it says why
    expect(page.locator("#own-account-note")).to_contain_text("you cannot lock your own account")
    page.goto(f"/users/{admin['user_id']}/confirm?action=lock")  # the confirmation says so too, with no button
    expect(page.locator("#own-account-refusal")).to_contain_text("you cannot lock your own account")
    expect(page.locator("#confirm-button")).to_have_count(0)
    page.click("#cancel-button")
    expect(page.locator("h1")).to_have_text(f"User {admin['username']}")
    assert live.get(admin["user_id"])["is_locked"] is False
    page.goto("/account")
    expect(page.locator("h1")).to_have_text("My account")


def test_locking_from_the_console_signs_the_user_out(pages, live, js):
    admin = live.user("locker", super_user=True)
    target = live.user("lockee")
    theirs = signed_in(pages.new(js=js), target["username"])
    page = signed_in(pages.new(js=js), admin["username"], landing=f"/users/{target['user_id']}")
    expect(page.locator("#sessions-count")).to_contain_text("1 open session")
    page.click("#lock-button")
    expect(page.locator("#consequences")).to_contain_text("1 open session ends now")
    page.click("#confirm-button")
    expect(flash(page)).to_contain_text("Locked.")
    expect(page.locator("#sessions-count")).to_have_text("No open sessions.")
    theirs.goto("/account")
    theirs.wait_for_url("**/login**")
    expect(flash(theirs)).to_contain_text("Your account is locked")


def test_the_new_pages_have_no_serious_axe_violations(pages, live):
    admin = live.user("a11y-life", super_user=True)
    target = live.user("a11y-life-target")
    signed_in(pages.new(user_agent=PHONE_UA), admin["username"])  # a second device to list
    live.sso.user.login("seed", target["username"], PASSWORD, "CRM", "10.9.9.9", "curl/8.4.0")
    page = signed_in(pages.new(axe=True), admin["username"])
    problems: dict[str, list] = {}

    def check(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        # Light and dark, and on a phone (no sideways scroll); every violation, the moderate ones too.
        found = axe_check(page, label, widths=(390,), strict=True)
        if found:
            problems[label] = found

    page.goto("/account")
    expect(page.locator("#devices tbody tr")).to_have_count(2)
    check("my account with devices")
    page.goto(f"/users/{target['user_id']}")
    expect(page.locator("#user-sessions tbody tr")).to_have_count(1)
    check("user edit with sessions")
    for action in ("lock", "reject", "delete"):
        page.goto(f"/users/{target['user_id']}")
        page.click(f"#{action}-button")
        expect(page.locator("#confirm-button")).to_be_visible()
        check(f"confirm {action}")
    page.goto(f"/users/{admin['user_id']}")
    expect(page.locator("#own-account-note")).to_be_visible()
    check("own record")
    page.goto(f"/users/{admin['user_id']}/confirm?action=lock")
    expect(page.locator("#own-account-refusal")).to_be_visible()
    check("own record: lock refused")
    page.goto(f"/users/{target['user_id']}")
    page.click("#end-sessions-button")
    expect(flash(page)).to_contain_text("Signed out 1 session.")
    check("sessions signed out")
    client = unique("a11y-client")
    live.sso.operator.create_api_client(client)
    page.goto("/api-clients")
    check("API clients")
    page.check(f"#api-clients-table tr:has-text('{client}') input[name=confirm]")
    page.click(f"#api-clients-table tr:has-text('{client}') button")
    expect(flash(page)).to_contain_text(f"API client {client} revoked.")
    page.goto("/account/history?kind=api_client_revoke")
    expect(page.locator("#history")).to_contain_text("API client revoked")
    check("my history: API client revoked")
    page.goto(f"/users/{target['user_id']}/history")
    check("user history")
    assert not problems, problems


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reachable with Tab")


def test_the_keyboard_alone_signs_out_a_device_and_confirms_a_lock(pages, live):
    admin = live.user("kbd-life", super_user=True)
    target = live.user("kbd-life-target")
    signed_in(pages.new(user_agent=PHONE_UA), admin["username"])
    page = signed_in(pages.new(), admin["username"], landing="/account")
    tab_to(page, "#devices button")
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("Signed out that device.")

    page.goto(f"/users/{target['user_id']}")
    tab_to(page, "#lock-button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/confirm?**")
    expect(page.locator("h1")).to_contain_text("Lock")
    tab_to(page, "#confirm-button")
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("Locked.")
    assert live.get(target["user_id"])["is_locked"] is True
