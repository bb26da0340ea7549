"""Hostile text is shown as text, never run; cookies are HttpOnly and SameSite."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .ui import flash, signed_in, type_into

PAYLOAD = "<script>alert(1)</script>"
IMG_PAYLOAD = '<img src=x onerror="alert(2)">'

# Escaping and cookie flags are the templates' and Flask's business, not the database's.
pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def test_script_in_a_display_name_renders_as_text(pages, live):
    victim = live.user("xss", display_name=PAYLOAD, last_name=IMG_PAYLOAD)
    admin = live.user("xssadm", super_user=True)
    page = signed_in(pages.new(), admin["username"], landing=f"/users?q={victim['username']}")
    row = page.locator(f"#user-row-{victim['user_id']}")
    expect(row.locator("td").nth(2)).to_have_text(PAYLOAD)  # after the select box and the username
    page.goto(f"/users/{victim['user_id']}")
    expect(page.locator("#f-display_name")).to_have_value(PAYLOAD)
    expect(page.locator("#f-last_name")).to_have_value(IMG_PAYLOAD)
    expect(page.locator("#history")).to_contain_text(PAYLOAD)
    # Inline validation re-renders the field from the server: still text.
    type_into(page, "first_name", PAYLOAD)
    page.wait_for_timeout(700)
    expect(page.locator("#f-first_name")).to_have_value(PAYLOAD)
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: First name.")
    assert live.get(victim["user_id"])["first_name"] == PAYLOAD

    own = signed_in(pages.new(), victim["username"])
    expect(own.locator("#f-display_name")).to_have_value(PAYLOAD)
    assert own.locator("script:not([src])").count() == 0
    assert page.locator("script:not([src])").count() == 0
    assert page.dialogs == [] and own.dialogs == []  # type: ignore[attr-defined]


def test_session_cookies_are_httponly_and_samesite(pages, live):
    user = live.user("cookie")
    page = signed_in(pages.new(), user["username"])
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert set(cookies) >= {"sso_ust", "session"}
    for cookie in cookies.values():
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax", cookie
    assert page.evaluate("document.cookie") == ""
    response = page.goto("/account")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_right_to_left_override_in_a_value_does_not_reorder_the_history_around_it(pages, live):
    """U+202E in a display name reversed the arrow, the other value and the Restore button after it, so a
    record could be made to read like another; each value is now isolated (unicode-bidi: isolate)."""
    victim = live.user("bidi", display_name="\u202eOlga from tab 1")
    admin = live.user("bidiadm", super_user=True)
    page = signed_in(pages.new(), admin["username"], landing=f"/users/{victim['user_id']}")
    type_into(page, "display_name", "Olga 2")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved")
    change = page.locator("#history ul.changes li").filter(has_text="Olga 2").first
    old, new = change.locator(".value").nth(0), change.locator(".value").nth(1)
    arrow = change.locator(".arrow")
    boxes = [item.bounding_box() for item in (old, arrow, new)]
    assert all(boxes)
    # Left to right as written: old value, arrow, new value (without isolation the override reversed them).
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"], boxes  # type: ignore[index]
