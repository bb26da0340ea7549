"""My account in a real browser: edit, clear to "not set", the clear box, a conflict between two tabs."""

from __future__ import annotations

from playwright.sync_api import expect

from .ui import choose, field_state, flash, signed_in, type_into


def test_edit_my_account(pages, live, js):
    user = live.user("acct", email="old@example.com", display_name="Old Name")
    page = pages.new(js=js)  # a page of `Pages.new`, with its `htmx` request log
    signed_in(page, user["username"])
    expect(page.locator("#f-display_name")).to_have_value("Old Name")
    version = page.locator("#f-version").input_value()
    page.fill("#f-display_name", "Ada Lovelace")
    type_into(page, "first_name", "Ada")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Display name, First name.")
    assert page.url.endswith("/account")
    expect(page.locator("#f-display_name")).to_have_value("Ada Lovelace")
    expect(page.locator("#f-first_name")).to_have_value("Ada")
    assert int(page.locator("#f-version").input_value()) == int(version) + 1
    # With JavaScript the save went through htmx (no full-page form post); without, plain POST/redirect.
    assert ("POST /account" in page.htmx) is js
    stored = live.get(user["user_id"])
    assert (stored["display_name"], stored["first_name"], stored["email"]) == ("Ada Lovelace", "Ada", "old@example.com")
    # Only what changed was sent: the untouched, never-set last name is still NULL.
    assert stored["last_name"] is None
    expect(field_state(page, "last_name")).to_have_text("not set")
    # The history lists the change, old → new.
    expect(page.locator("#history tbody tr").first).to_contain_text("Display name")
    expect(page.locator("#history tbody tr").first).to_contain_text("Old Name")
    expect(page.locator("#history tbody tr").first).to_contain_text("Ada Lovelace")


def test_clear_a_field_shows_not_set(pages, live, js):
    user = live.user("clear", email="clear.me@example.com", middle_name="")
    page = signed_in(pages.new(js=js), user["username"])
    expect(field_state(page, "email")).to_have_text("")
    expect(field_state(page, "middle_name")).to_have_text("empty text")
    page.check("#f-email-clear")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Email.")
    expect(field_state(page, "email")).to_have_text("not set")
    expect(page.locator("#f-email-clear")).to_be_checked()
    expect(page.locator("#f-email")).to_have_value("")
    stored = live.get(user["user_id"])
    assert stored["email"] is None
    assert stored["middle_name"] == ""  # "" and NULL stay different
    expect(page.locator("#history tbody tr").first).to_contain_text("clear.me@example.com")
    expect(page.locator("#history tbody tr").first.locator(".value-null")).to_have_text("not set")


def test_set_a_value_on_a_not_set_field(pages, live, js):
    """A field shown as "not set" (its clear box ticked) takes a typed value."""
    user = live.user("unset")
    page = signed_in(pages.new(js=js), user["username"])
    expect(field_state(page, "last_name")).to_have_text("not set")
    expect(page.locator("#f-last_name")).to_be_enabled()  # typing into it is enough (issue 11)
    page.fill("#f-last_name", "Byron")
    if js:  # typing unticks "clear"
        expect(page.locator("#f-last_name-clear")).not_to_be_checked()
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Last name.")
    assert live.get(user["user_id"])["last_name"] == "Byron"


def test_clear_checkbox_dims_its_input(pages, live, js):
    user = live.user("cbox", display_name="Shown")
    page = signed_in(pages.new(js=js), user["username"])
    box, field = page.locator("#f-display_name"), page.locator("#field-display_name")
    expect(box).to_be_enabled()
    page.check("#f-display_name-clear")
    expect(box).to_be_enabled()  # never disabled: typing into it unticks "clear" (issue 11)
    if not js:
        return
    expect(field).to_have_class("field is-cleared")
    page.wait_for_timeout(700)  # the inline-validation round trip re-renders the field: still cleared
    expect(page.locator("#f-display_name-clear")).to_be_checked()
    expect(page.locator("#field-display_name")).to_have_class("field is-cleared")
    page.uncheck("#f-display_name-clear")
    expect(page.locator("#field-display_name")).not_to_have_class("is-cleared")
    expect(page.locator("#f-display_name")).to_have_value("Shown")
    assert live.get(user["user_id"])["display_name"] == "Shown"  # ticking saves nothing by itself
    page.check("#f-display_name-clear")
    page.click("#save")
    expect(page.locator("#messages")).to_contain_text("Saved: Display name.")
    assert live.get(user["user_id"])["display_name"] is None  # the ticked box wins over the dimmed text


def test_invalid_value_is_shown_per_field(pages, live, js):
    user = live.user("badmail", email="good@example.com")
    page = signed_in(pages.new(js=js), user["username"])
    page.fill("#f-email", "not an email")
    if js:  # inline validation from the service rule, before saving
        expect(page.locator("#f-email-error")).to_be_visible()
        expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    page.click("#save")
    expect(page.locator("#f-email-error")).to_be_visible()
    expect(page.locator("#field-errors")).to_contain_text("Email")
    expect(page.locator("#f-email")).to_have_value("not an email")
    assert live.get(user["user_id"])["email"] == "good@example.com"


def test_two_tabs_same_field_conflict(pages, live, js):
    """The same person in two browsers: the second save of one field is a conflict, not an overwrite."""
    user = live.user("tabs", display_name="Start")
    first = signed_in(pages.new(js=js), user["username"])
    second = signed_in(pages.new(js=js), user["username"])
    first.fill("#f-display_name", "From first")
    first.click("#save")
    expect(flash(first)).to_contain_text("Saved: Display name.")
    second.fill("#f-display_name", "From second")
    second.click("#save")
    expect(second.locator("#conflict-message")).to_be_visible()
    expect(second.locator("#f-display_name-conflict")).to_contain_text("Yours: From second")
    expect(second.locator("#f-display_name-conflict")).to_contain_text("Theirs (saved now): From first")
    assert live.get(user["user_id"])["display_name"] == "From first"
    choose(second, "f-display_name-keep-mine")
    second.click("#save")
    expect(flash(second)).to_contain_text("Saved: Display name.")
    assert live.get(user["user_id"])["display_name"] == "From second"
