"""Bulk actions on the users list in Chromium (issue 11), with JavaScript and without: tick users (or the whole
page), confirm what is hard to undo, read each user's outcome; axe on every step, light and dark, 1280 and 390 px."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from .ui import PASSWORD, axe_check, signed_in

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def _setup(pages, live, js=True, count=3, **options):
    token = f"bulk{uuid.uuid4().hex[:6]}"
    made = [live.user(f"{token}-{i}") for i in range(count)]
    admin = live.user("bulk-admin", super_user=True)
    page = signed_in(pages.new(js=js, **options), admin["username"], landing=f"/users?q={token}")
    expect(page.locator("#user-table tbody tr")).to_have_count(count)
    return page, made, admin, token


def test_lock_two_selected_users_through_the_confirmation(pages, live, js):
    page, (anna, bert, carl), _, token = _setup(pages, live, js)
    if js:
        expect(page.locator("#select-all")).to_be_visible()
    else:
        expect(page.locator("#select-all")).to_be_hidden()  # without the script: tick each row
    page.get_by_label(f"Select {anna['username']}").check()
    page.get_by_label(f"Select {bert['username']}").check()
    page.select_option("#bulk-action", "lock")
    page.click("#bulk-apply")
    expect(page.locator("h1")).to_have_text("Lock 2 users?")
    expect(page.locator("#consequences")).to_contain_text("Each selected user cannot log in until someone unlocks")
    expect(page.locator("#bulk-selection tbody tr")).to_have_count(2)
    assert live.get(anna["user_id"])["is_locked"] is False  # nothing until confirmed
    page.click("#confirm-button")
    expect(page.locator("h1")).to_have_text("Lock: results")
    expect(page.locator("#bulk-summary")).to_have_text("2 locked.")
    for user in (anna, bert):
        expect(page.locator(f"#result-{user['user_id']}")).to_contain_text("Locked")
        assert live.get(user["user_id"])["is_locked"] is True
        assert live.login_error(user["username"], PASSWORD) is not None
    assert live.login_error(carl["username"], PASSWORD) is None
    assert "POST /users/bulk" not in page.htmx  # a plain form post: a whole page back, no half-swap
    page.click("#bulk-back")
    expect(page).to_have_url(re.compile(rf"/users\?q={token}$"))
    expect(page.locator(f"#user-row-{anna['user_id']}")).to_contain_text("Locked")


def test_select_all_on_the_page_and_an_empty_selection(pages, live):
    page, made, _, token = _setup(pages, live)
    page.click("#bulk-apply")  # nothing ticked: said on the list, focus on the message
    expect(page.locator("#bulk-error")).to_have_text("Select at least one user first, then choose what to do.")
    expect(page.locator("#bulk-error")).to_be_focused()
    expect(page.locator("#user-table tbody tr")).to_have_count(3)
    page.goto(f"/users?q={token}")
    select_all = page.locator("#select-all")
    select_all.check()
    for user in made:
        expect(page.locator(f"#select-{user['user_id']}")).to_be_checked()
    page.locator(f"#select-{made[0]['user_id']}").uncheck()
    assert page.evaluate("document.getElementById('select-all').indeterminate") is True
    page.locator(f"#select-{made[0]['user_id']}").check()
    expect(select_all).to_be_checked()
    # A live search redraws the rows: the box comes back, unticked, and still works.
    page.fill("#q", f"{token}-")
    expect(page).to_have_url(re.compile(rf"q={token}-"))
    expect(select_all).to_be_visible()
    expect(select_all).not_to_be_checked()
    select_all.check()
    page.select_option("#bulk-action", "approve")  # runs at once: no confirmation
    page.click("#bulk-apply")
    expect(page.locator("h1")).to_have_text("Approve: results")
    expect(page.locator("#bulk-summary")).to_have_text("3 no change.")
    expect(page.locator("#bulk-results tbody tr")).to_have_count(3)


def test_axe_on_the_list_the_confirmation_and_the_results(pages, live):
    page, made, admin, token = _setup(pages, live, axe=True, viewport={"width": 1280, "height": 800}, count=2)
    problems = {}

    def check(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        found = axe_check(page, label, widths=(390,))
        if found:
            problems[label] = found

    page.locator(f"#select-{made[0]['user_id']}").check()
    check("list with boxes")
    page.select_option("#bulk-action", "")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-error")).to_be_visible()
    check("list, no action chosen")
    page.goto(f"/users?q={token}")
    page.locator("#select-all").check()
    page.select_option("#bulk-action", "sign_out")
    page.click("#bulk-apply")
    expect(page.locator("h1")).to_have_text("Sign out 2 users?")
    check("confirmation")
    page.click("#confirm-button")
    expect(page.locator("#bulk-summary")).to_have_text("2 no change.")
    check("results")
    # A refusal among the outcomes (one's own account) reads as such.
    page.goto(f"/users?q={admin['username']}")
    page.locator(f"#select-{admin['user_id']}").check()
    page.select_option("#bulk-action", "delete")
    page.click("#bulk-apply")
    page.click("#confirm-button")
    expect(page.locator(f"#result-{admin['user_id']}")).to_contain_text("Not done: you cannot delete your own account")
    check("results with a refusal")
    assert not problems, problems
