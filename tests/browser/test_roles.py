"""Roles in Chromium (SPEC §17): a help-desk person's day, and axe on the Roles pages and the pages a role
holder sees."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .ui import axe_check, flash, signed_in

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def _helpdesk(live) -> dict:
    person = live.user("desk")
    live.sso.operator.grant_role_local(person["username"], "helpdesk")
    return person


def test_a_help_desk_person_unlocks_a_user_but_cannot_delete_or_edit_the_email(pages, live):
    desk = _helpdesk(live)
    locked = live.user("locked-out", email="locked@example.com", is_locked=True)
    page = pages.new()
    # the list filtered to this user: the live server's other users may fill the first page
    signed_in(page, desk["username"], landing=f"/users?q={locked['username']}")
    expect(page.locator("#nav-users")).to_be_visible()
    expect(page.locator("#nav-api-clients")).to_have_count(0)
    page.click(f"#user-row-{locked['user_id']} .user-link")
    expect(page.locator("h1")).to_have_text(f"User {locked['username']}")
    expect(page.locator("#delete-button")).to_have_count(0)
    expect(page.locator("input[name=email]")).to_have_count(0)
    expect(page.locator("#field-email")).to_contain_text("locked@example.com")
    expect(page.locator("#field-email")).to_contain_text("view only")
    page.click("#unlock-button")
    expect(flash(page)).to_contain_text("Unlocked")
    assert live.get(locked["user_id"])["is_locked"] is False

    # A crafted delete (the form a super-user's page would have) from this browser, with its own CSRF token.
    token = page.locator("input[name=csrf_token]").first.input_value()
    page.set_content(
        f"""<form method="post" action="{live.url}/users/{locked["user_id"]}/delete" id="crafted">
        <input type="hidden" name="csrf_token" value="{token}"><button id="go">Delete</button></form>"""
    )
    page.click("#go")
    expect(page.locator("h1")).to_have_text("Not allowed")
    assert live.get(locked["user_id"])["username"] == locked["username"]


def test_axe_finds_no_serious_violations_on_the_roles_pages(pages, live):
    admin = live.user("roles-admin", super_user=True)
    desk = _helpdesk(live)
    target = live.user("roles-target", email="t@example.com")
    live.sso.operator.grant_role_local(target["username"], "auditor")
    page = pages.new(axe=True)
    problems: dict[str, list] = {}

    def check(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        found = axe_check(page, label)
        if found:
            problems[label] = found

    signed_in(page, admin["username"], landing="/roles")
    check("roles list")
    page.goto("/roles/new")
    check("new role")
    page.fill("#role-name", "Bad Name")
    page.click("#role-save")
    expect(page.locator("#role-errors")).to_be_visible()
    check("new role with errors")
    page.goto("/roles/auditor")
    check("role with holders")
    page.goto(f"/users/{target['user_id']}")
    expect(page.locator("#roles-card")).to_contain_text("auditor")
    check("manage user with the roles card")
    page = pages.new(axe=True)
    signed_in(page, desk["username"], landing=f"/users/{target['user_id']}")
    expect(page.locator("#field-email")).to_contain_text("view only")
    check("manage user as the help desk")
    page.goto("/roles/helpdesk")
    check("a role, read only")
    assert not problems, problems
