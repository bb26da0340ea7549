"""Layout details that only a real browser shows: aligned controls, times on one line, no shift on errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .ui import signed_in, type_into

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def _admin(pages, live, **options):
    admin = live.user("layout-adm", super_user=True)
    return signed_in(pages.new(**options), admin["username"]), admin


def test_the_search_box_is_as_tall_as_the_selects(pages, live):
    page, _ = _admin(pages, live)
    page.goto("/users")
    search, locked, approval = (page.locator(f"#{name}").bounding_box() for name in ("q", "locked", "approval"))
    assert abs(search["height"] - locked["height"]) < 0.5 and abs(locked["height"] - approval["height"]) < 0.5
    assert abs(search["y"] - locked["y"]) < 0.5


def test_a_wrapping_checkbox_label_lines_up_with_its_first_line(pages, live):
    page, _ = _admin(pages, live)
    target = live.user("layout-target")
    page.goto(f"/users/{target['user_id']}")
    box = page.locator("#set-password-must-change").bounding_box()
    first_line, lines = page.evaluate("""() => {
        const range = document.createRange();
        range.selectNodeContents(document.querySelector('label[for="set-password-must-change"]'));
        const rects = [...range.getClientRects()];
        const tops = new Set(rects.map(r => Math.round(r.top)));
        return [{top: rects[0].top, height: rects[0].height}, tops.size];
    }""")
    assert lines >= 2, "the label no longer wraps at this width: the check proves nothing"
    line_middle = first_line["top"] + first_line["height"] / 2
    assert abs((box["y"] + box["height"] / 2) - line_middle) <= 2


def test_times_and_not_set_pills_stay_on_one_line(pages, live):
    page, _ = _admin(pages, live)
    target = live.user("layout-time")
    live.update(target["user_id"], {"password_expiry": "2028-11-28T10:11:12", "is_locked": True})
    live.update(target["user_id"], {"password_expiry": None})
    page.goto(f"/users/{target['user_id']}")
    pills = page.locator(
        "#history .value-time, #history .value-null, #history time, #user-facts .value-null, #user-facts time"
    )
    assert pills.count() >= 4
    for index in range(pills.count()):
        assert pills.nth(index).evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"


def test_an_inline_error_does_not_move_the_save_button(pages, live):
    page, _ = _admin(pages, live)
    target = live.user("layout-error")
    page.goto(f"/users/{target['user_id']}")
    before = page.locator("#save").bounding_box()
    type_into(page, "email", "not an email")
    page.locator("#f-email").blur()
    expect(page.locator("#f-email-error")).to_be_visible()
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    after = page.locator("#save").bounding_box()
    assert abs(after["y"] - before["y"]) < 0.5, (before, after)
