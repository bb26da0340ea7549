"""Focus and form mistakes (issue 11, fixes 1-7): what a new administrator tripped over (focus, not-set
fields, creating a user, a mistyped expiry, the history on a phone, addresses in one's own activity). Fix 8
is test_login_paused.py."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import FloatRect, Locator, expect

from .ui import SEED_APP, SEED_CID, axe_check, field_state, flash, signed_in

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def _admin(pages, live, **options):
    admin = live.user("fix-admin", super_user=True)
    return signed_in(pages.new(**options), admin["username"]), admin


def _two_mistakes(pages, live, prefix: str, height: int):
    """A super-user on a user's edit page, a window `height` px high, a bad username and email typed in."""
    target = live.user(prefix)
    page, _ = _admin(pages, live, viewport={"width": 1280, "height": height})
    page.goto(f"/users/{target['user_id']}")
    page.fill("#f-username", "has a space")
    page.fill("#f-email", "not an email")
    return page, target


def test_news_already_in_view_takes_the_focus_without_moving_the_page(pages, live):
    page, _ = _two_mistakes(pages, live, "fix-still", 900)
    # The form's top 100 px below the window's: its error summary will be in view, well above the middle.
    scrolled = page.evaluate(
        "() => { const top = document.querySelector('#user-form').getBoundingClientRect().top;"
        " window.scrollTo(0, scrollY + top - 100); return scrollY; }"
    )
    assert scrolled > 0
    page.press("#f-email", "Enter")
    expect(page.locator("#field-errors")).to_be_focused()
    expect(page.locator("#field-errors")).to_be_in_viewport()
    assert page.evaluate("scrollY") == scrolled  # centring it (as before) moved the page


def test_focus_goes_to_the_errors_or_the_one_bad_field_and_to_the_flash_after_saving(pages, live):
    page, target = _two_mistakes(pages, live, "fix-focus", 600)
    # Two mistakes: the summary takes the focus and is scrolled into view.
    page.locator("#save").scroll_into_view_if_needed()
    page.click("#save")
    expect(page.locator("#field-errors")).to_be_focused()
    expect(page.locator("#field-errors")).to_be_in_viewport()
    # One mistake: that field takes the focus.
    page.fill("#f-username", target["username"])
    page.locator("#save").scroll_into_view_if_needed()
    page.click("#save")
    expect(page.locator("#f-email")).to_be_focused()
    expect(page.locator("#f-email")).to_be_in_viewport()
    # Success: the flash message (in a live region) takes the focus.
    page.fill("#f-email", "fixed@example.com")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Email.")
    expect(page.locator("#messages")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#messages .flash")).to_be_focused()


def test_typing_into_a_not_set_field_unticks_clear(pages, live):
    target = live.user("fix-notset")
    assert target["display_name"] is None
    page, _ = _admin(pages, live)
    page.goto(f"/users/{target['user_id']}")
    expect(page.locator("#f-display_name-clear")).to_be_checked()
    expect(field_state(page, "display_name")).to_have_text("not set")
    page.click("#f-display_name")
    page.keyboard.type("Zed Example")
    expect(page.locator("#f-display_name")).to_have_value("Zed Example")
    expect(page.locator("#f-display_name-clear")).not_to_be_checked()
    expect(field_state(page, "display_name")).to_contain_text("will be set")
    # Clicking another not-set field and leaving it empty keeps it not set.
    page.click("#f-middle_name")
    expect(page.locator("#f-middle_name-clear")).not_to_be_checked()
    page.click("#f-first_name")
    expect(page.locator("#f-middle_name-clear")).to_be_checked()
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Display name.")
    stored = live.get(target["user_id"])
    assert stored["display_name"] == "Zed Example" and stored["middle_name"] is None


def test_creating_a_user_reports_every_mistake_at_once_and_keeps_the_passwords(pages, live):
    page, _ = _admin(pages, live)
    page.goto("/users/new")
    page.fill("#f-username", "has a space")
    page.fill("#f-email", "not an email")
    page.fill("#f-password", "my-password-123")  # long enough, but a common word
    page.fill("#f-password_confirm", "my-password-123")
    page.click("#create-submit")
    summary = page.locator("#field-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Username")
    expect(summary).to_contain_text("Email")
    expect(summary).to_contain_text("Password")
    expect(page.locator("#f-password-error")).to_contain_text("too easy to guess")
    expect(page.locator("#f-password")).to_have_value("my-password-123")
    expect(page.locator("#f-password_confirm")).to_have_value("my-password-123")
    # A second box that differs is named; once all is right the user is made.
    name = f"fixnew-{uuid.uuid4().hex[:6]}"
    page.fill("#f-username", name)
    page.fill("#f-email", f"{name}@example.com")
    page.fill("#f-password", "Brand-New-Pass-7")
    page.fill("#f-password_confirm", "Brand-New-Pass-8")
    page.click("#create-submit")
    expect(page.locator("#f-password_confirm-error")).to_contain_text("does not match")
    page.fill("#f-password_confirm", "Brand-New-Pass-7")
    page.click("#create-submit")
    expect(flash(page)).to_contain_text(f"Created user {name}.")
    assert live.login_error(name, "Brand-New-Pass-7") is None


def test_a_mistyped_expiry_keeps_what_was_typed_in_the_pickers_format(pages, live):
    target = live.user("fix-expiry")
    page, _ = _admin(pages, live)
    page.goto(f"/users/{target['user_id']}")
    box = page.locator("#f-password_expiry")
    box.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")  # empty the focused segment: the date is now incomplete
    page.wait_for_timeout(700)  # longer than the inline validation's delay
    assert box.evaluate("e => e.validity.badInput"), "the incomplete date was wiped"
    page.click("#save")
    error = page.locator("#f-password_expiry-error")
    expect(error).to_be_visible()
    example = page.evaluate("new Date(2030, 0, 31, 12, 0, 5).toLocaleString()")
    expect(error).to_contain_text(example)
    expect(error).not_to_contain_text("ISO")
    assert box.evaluate("e => e.validity.badInput"), "the incomplete date was wiped"
    expect(box).to_be_focused()
    assert "Password expiry" not in flash(page).inner_text()


def _box(locator: Locator) -> FloatRect:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not visible"
    return box


def test_the_history_on_a_phone(pages, live):
    target = live.user("fix-phone", email="phone@example.com")
    live.update(target["user_id"], {"display_name": "A long display name for the phone", "is_locked": True})
    admin = live.user("fix-phone-adm", super_user=True)
    page = signed_in(
        pages.new(viewport={"width": 390, "height": 800}, axe=True),
        admin["username"],
        landing=f"/users/{target['user_id']}",
    )
    region = page.locator("#history-card .table-wrap")
    expect(region).to_have_attribute("tabindex", "0")
    expect(region).to_have_attribute("role", "region")
    assert region.evaluate("e => e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')")
    region.focus()
    expect(region).to_be_focused()
    changes = page.locator("#history thead th", has_text="Changes")
    box = _box(changes)
    assert box["x"] < 390 - 100, box  # the column starts well inside the screen
    heads = page.locator("#history thead th")
    tops = {round(_box(heads.nth(i))["y"]) for i in range(heads.count())}
    heights = {round(_box(heads.nth(i))["height"]) for i in range(heads.count())}
    line = heads.first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert len(tops) == 1 and max(heights) < 2 * line + 16, (tops, heights, line)
    found = [v for v in axe_check(page, "history 390px") if v["id"] == "scrollable-region-focusable"]
    assert not found, found


def test_own_activity_hides_the_address_a_super_user_edited_from(pages, live):
    person = live.user("fix-addr")
    live.sso.user.update_user_by_id(
        SEED_CID, person["user_id"], {"display_name": "Edited"}, live._ust, SEED_APP, "203.0.113.77"
    )
    page = signed_in(pages.new(), person["username"])
    rows = page.locator("#history tbody tr")
    expect(rows.first).to_contain_text("Logged in")
    expect(rows.first).to_contain_text("127.0.0.1")  # their own sign-in shows where from
    expect(page.locator("#history")).to_contain_text("Edited")
    expect(page.locator("#history")).not_to_contain_text("203.0.113.77")
