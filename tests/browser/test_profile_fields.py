"""Profile fields (SPEC §16) in Chromium, JavaScript on and off: define one, fill it on Manage user, clear it,
see "not set", filter the list by it, the conflict screen of two tabs saving it; axe on the new pages."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from webapp.sso import Call

from .ui import axe_check, choose, flash, signed_in


@pytest.fixture
def field_name(live):
    """A fresh field's name; the field is deleted afterwards (the live server is shared by the session)."""
    name = f"dept_{uuid.uuid4().hex[:6]}"
    yield name
    admin = live.sso.serve(Call("t", live._ust, "CRM", "127.0.0.1"))
    if any(f.name == name for f in admin.profile_fields()):
        admin.delete_profile_field(name, name)


def test_define_fill_clear_filter_and_conflict(pages, live, js, field_name):
    admin = live.user("pf-admin", super_user=True)
    target = live.user("pf-target", password=None)
    page = signed_in(pages.new(js=js), admin["username"], landing="/profile-fields")
    page.click("#add-profile-field")
    page.fill("#f-name", field_name)
    page.fill("#f-label", "Department")
    page.fill("#f-group", "Work")
    page.check("#f-searchable")
    page.check("#f-list_column")
    page.click("#save-button")
    expect(flash(page)).to_contain_text(f"Profile field {field_name} added.")
    expect(page.locator(f"#field-row-{field_name}")).to_contain_text("searchable, list column")

    page.goto(f"/users/{target['user_id']}")
    box = page.locator(f"#f-{field_name}")
    expect(page.locator(f"#f-{field_name}-state")).to_contain_text("not set")
    box.fill("Finance")  # "clear" stays ticked from the value that was not set: typing a value means it
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Department.")
    assert live.get(target["user_id"])[field_name] == "Finance"

    page.goto(f"/users?pf_{field_name}=fin")
    expect(page.locator("#user-table tbody tr")).to_have_count(1)
    expect(page.locator(f"#user-row-{target['user_id']}")).to_contain_text("Finance")

    page.goto(f"/users/{target['user_id']}")
    page.check(f"#f-{field_name}-clear")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Department.")
    expect(page.locator(f"#f-{field_name}-state")).to_contain_text("not set")
    assert live.get(target["user_id"])[field_name] is None

    other = signed_in(pages.new(js=js), admin["username"], landing=f"/users/{target['user_id']}")
    for tab, value in ((page, "Sales"), (other, "Legal")):
        tab.locator(f"#f-{field_name}").fill(value)
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Department.")
    other.click("#save")
    expect(other.locator("#conflict-message")).to_be_visible()
    conflict = other.locator(f"#f-{field_name}-conflict")
    expect(conflict).to_contain_text("Yours: Legal")
    expect(conflict).to_contain_text("Theirs (saved now): Sales")
    assert live.get(target["user_id"])[field_name] == "Sales"
    choose(other, f"f-{field_name}-keep-mine")
    other.click("#save")
    expect(flash(other)).to_contain_text("Saved: Department.")
    assert live.get(target["user_id"])[field_name] == "Legal"


def test_the_new_pages_pass_axe(pages, live, field_name):
    admin = live.user("pf-axe", super_user=True)
    page = signed_in(pages.new(js=True, axe=True), admin["username"], landing="/profile-fields/new")
    assert axe_check(page, "new profile field", widths=(390,)) == []
    page.fill("#f-name", field_name)
    page.fill("#f-label", "Department")
    page.click("#save-button")
    expect(page.locator(f"#field-row-{field_name}")).to_be_visible()
    assert axe_check(page, "profile fields", widths=(390,)) == []
    page.goto(f"/profile-fields/{field_name}")
    assert axe_check(page, "edit profile field") == []
    page.goto(f"/profile-fields/{field_name}/delete")
    assert axe_check(page, "delete profile field") == []
