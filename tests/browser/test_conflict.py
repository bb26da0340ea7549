"""Two super-users editing one user in two browsers: different fields merge, the same field is a conflict."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .ui import choose, flash, signed_in, type_into

# On SQLite (the `live` default), as the other browser tests: the saves here come one after the other and the
# outcome is the version check's, which tests/core proves on both databases (real races too, in
# test_update_checks.py), as tests/api/test_concurrency.py does over HTTP.


def two_editors(pages, live, js, **attrs):
    """Two super-users, each in their own browser, both on the edit page of a fresh user."""
    target = live.user("shared", **attrs)
    editors = []
    for name in ("alice-adm", "bob-adm"):
        admin = live.user(name, super_user=True)
        page = signed_in(pages.new(js=js), admin["username"], landing=f"/users/{target['user_id']}")
        expect(page.locator("#user-form")).to_be_visible()
        editors.append(page)
    return target, editors


def test_different_fields_are_both_saved(pages, live, js):
    target, (first, second) = two_editors(pages, live, js, display_name="Shared User")
    type_into(first, "first_name", "Grace")
    first.click("#save")
    expect(flash(first)).to_contain_text("Saved: First name.")
    type_into(second, "last_name", "Hopper")
    second.click("#save")
    expect(flash(second)).to_contain_text(
        "Saved: Last name. Someone else changed First name meanwhile; their changes were kept."
    )
    stored = live.get(target["user_id"])
    assert (stored["first_name"], stored["last_name"], stored["display_name"]) == ("Grace", "Hopper", "Shared User")
    # The second editor's page now shows both.
    expect(second.locator("#f-first_name")).to_have_value("Grace")
    expect(second.locator("#f-last_name")).to_have_value("Hopper")
    expect(second.locator("#conflict-message")).to_have_count(0)


@pytest.mark.parametrize("resolution", ["keep-mine", "take-theirs"])
def test_same_field_is_a_conflict_until_resolved(pages, live, js, resolution):
    target, (first, second) = two_editors(pages, live, js, email="start@example.com")
    first.fill("#f-email", "first@example.com")
    first.click("#save")
    expect(flash(first)).to_contain_text("Saved: Email.")

    second.fill("#f-email", "second@example.com")
    type_into(second, "middle_name", "Q")  # a change to another field rides along
    second.click("#save")
    expect(second.locator("#conflict-message")).to_be_visible()
    assert (f"POST /users/{target['user_id']}" in second.htmx) is js
    conflict = second.locator("#f-email-conflict")
    expect(conflict).to_contain_text("Yours: second@example.com")
    expect(conflict).to_contain_text("Theirs (saved now): first@example.com")
    expect(second.locator("#f-middle_name-conflict")).to_have_count(0)
    expect(second.locator("#f-email-keep-mine")).not_to_be_checked()
    expect(second.locator("#f-email-take-theirs")).not_to_be_checked()
    # Nothing was written: not the conflicting field, not the other one.
    stored = live.get(target["user_id"])
    assert stored["email"] == "first@example.com" and stored["middle_name"] is None
    assert second.locator("#f-version").input_value() == str(stored["version"])

    choose(second, f"f-email-{resolution}")
    second.click("#save")
    expect(flash(second)).to_contain_text("Saved: ")
    stored = live.get(target["user_id"])
    assert stored["email"] == ("second@example.com" if resolution == "keep-mine" else "first@example.com")
    assert stored["middle_name"] == "Q"
    expect(second.locator("#f-email")).to_have_value(stored["email"])
    expect(second.locator("#conflict-message")).to_have_count(0)


def test_quick_action_after_someone_else_locked(pages, live, js):
    """Both see "Lock"; the second click finds the user already locked: nothing to do, nothing rewritten."""
    target, (first, second) = two_editors(pages, live, js)
    first.click("#lock-button")
    first.click("#confirm-button")  # the confirmation page says what happens
    expect(flash(first)).to_contain_text("Locked.")
    locked_time = live.get(target["user_id"])["locked_time"]
    second.click("#lock-button")
    second.click("#confirm-button")  # the confirmation page says what happens
    expect(flash(second)).to_contain_text("Nothing to do")
    assert live.get(target["user_id"])["locked_time"] == locked_time


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_a_conflict_with_js_refreshes_the_record_and_the_history(pages, live):
    """The 409 answer swaps the form and, out of band, the Record card, badges and history."""
    target, (first, second) = two_editors(pages, live, True, email="start@example.com")
    first.click("#lock-button")
    first.click("#confirm-button")  # the confirmation page says what happens
    expect(flash(first)).to_contain_text("Locked.")
    first.fill("#f-email", "first@example.com")
    first.click("#save")
    expect(flash(first)).to_contain_text("Saved: Email.")
    first_admin = first.locator("#nav-username").inner_text()

    stale = second.locator("#user-version").inner_text()
    second.fill("#f-email", "second@example.com")
    second.click("#save")
    expect(second.locator("#conflict-message")).to_be_visible()
    stored = live.get(target["user_id"])
    assert str(stored["version"]) != stale
    expect(second.locator("#user-version")).to_have_text(str(stored["version"]))
    expect(second.locator("#user-facts")).to_contain_text(f"by {first_admin}")
    expect(second.locator("#user-locked-badge")).to_be_visible()
    expect(second.locator("#unlock-button")).to_be_visible()
    newest = second.locator("#history tbody tr").first
    expect(newest).to_contain_text("first@example.com")
    expect(newest).to_contain_text(first_admin)
    # Each section is there once (replaced, not added), and still works: resolving saves.
    expect(second.locator("#record-card")).to_have_count(1)
    expect(second.locator("#history-card")).to_have_count(1)
    choose(second, "f-email-keep-mine")
    second.click("#save")
    expect(flash(second)).to_contain_text("Saved: Email.")
    assert live.get(target["user_id"])["email"] == "second@example.com"
