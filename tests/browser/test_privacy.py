"""SPEC §20 in Chromium: restore a value from a history page, with and without a conflict, with JavaScript
on and off; axe on the new pages (Your data, the conflict screen, the scheduled-deletion page, the
keep-my-account page, Manage user with a scheduled deletion)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Call
from webapp.sso.kernel.tables import audit

from .ui import PASSWORD, SEED_APP, SEED_CID, axe_check, flash, signed_in

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)


def _updates(live, user_id: str) -> list[int]:
    query = select(audit.c.id).where(audit.c.target_id == user_id, audit.c.action == "update").order_by(audit.c.id)
    with reading(live.sso.ctx.engine) as conn:
        return list(conn.execute(query).scalars())


def test_restore_with_and_without_a_conflict(pages, live, js):
    admin = live.user("restore-admin", super_user=True)
    target = live.user("restore-target", display_name="Good name")
    live.update(target["user_id"], {"display_name": "Typo nmae"})
    first, mistake = _updates(live, target["user_id"])
    page = signed_in(pages.new(js=js), admin["username"], landing=f"/users/{target['user_id']}/history")

    page.click(f"#restore-{mistake}-display_name")
    expect(flash(page)).to_contain_text("Restored Display name")
    assert live.get(target["user_id"])["display_name"] == "Good name"
    expect(page.locator(".restored-from").first).to_contain_text(f"record {mistake}")

    # Someone changes it again; restoring the first record's old value (not set) now shows the conflict.
    live.update(target["user_id"], {"display_name": "Newer name"})
    page.reload()
    page.click(f"#restore-{first}-display_name")
    expect(page.locator("#restore-conflict")).to_be_visible()
    expect(page.locator("#conflict-theirs")).to_contain_text("Newer name")
    expect(page.locator("#conflict-yours")).to_contain_text("not set")
    assert live.get(target["user_id"])["display_name"] == "Newer name"
    page.click("#restore-anyway")
    expect(flash(page)).to_contain_text("Restored Display name")
    assert live.get(target["user_id"])["display_name"] is None


def test_a_person_restores_their_own_value_from_my_activity(pages, live, js):
    person = live.user("restore-self", first_name="Ann")
    live.update(person["user_id"], {"first_name": "Anne-Marie"})
    record = _updates(live, person["user_id"])[-1]
    page = signed_in(pages.new(js=js), person["username"], landing="/account/history")
    expect(page.locator(f"#restore-{record}-first_name")).to_be_visible()
    page.click(f"#restore-{record}-first_name")
    expect(flash(page)).to_contain_text("Restored First name")
    assert live.get(person["user_id"])["first_name"] == "Ann"


def test_a_person_restores_a_profile_field_in_german_with_and_without_a_conflict(pages, live, js):
    """A profile field (SPEC §16) restored from My activity, in a German browser: the flash, the conflict
    screen and *Restore anyway* in German; the field's label, not its name."""
    name = f"team_{'js' if js else 'nojs'}"
    admin = live.sso.serve(Call(SEED_CID, live._ust, SEED_APP, "127.0.0.1"))
    admin.define_profile_field({"name": name, "label": "Team", "type": "choice", "options": ["red", "blue"]})
    person = live.user("restore-field")
    for value in ("red", "blue"):
        live.update(person["user_id"], {name: value})
    first, mistake = _updates(live, person["user_id"])
    page = signed_in(pages.new(js=js, locale="de-DE"), person["username"], landing="/account/history")
    page.click(f"#restore-{mistake}-{name}")
    expect(flash(page)).to_contain_text(f"Team wurde auf den Wert vor Eintrag {mistake} zurückgesetzt")
    assert live.get(person["user_id"])[name] == "red"
    expect(page.locator(".restored-from").first).to_contain_text(f"Eintrag {mistake}")

    live.update(person["user_id"], {name: "blue"})
    page.reload()
    page.click(f"#restore-{first}-{name}")  # it set red; blue now: a conflict
    expect(page.locator("#conflict-heading")).to_have_text("Team wurde seit diesem Eintrag geändert")
    expect(page.locator("#conflict-theirs")).to_contain_text("blue")
    assert live.get(person["user_id"])[name] == "blue"
    expect(page.locator("#restore-anyway")).to_have_text("Trotzdem wiederherstellen")
    page.click("#restore-anyway")
    expect(flash(page)).to_contain_text("zurückgesetzt")
    assert live.get(person["user_id"])[name] is None


def test_axe_on_the_privacy_pages(pages, live):
    admin = live.user("privacy-admin", super_user=True)
    person = live.user("privacy-person", email="privacy-person@example.com", display_name="P")
    live.update(person["user_id"], {"display_name": "Q"})
    page = pages.new(axe=True)
    problems: dict[str, list] = {}

    def check(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        found = axe_check(page, label)
        if found:
            problems[label] = found

    signed_in(page, person["username"], landing="/account/privacy")
    check("your data")
    page.click("#delete-submit")
    expect(page.locator("#delete-confirm-error")).to_be_visible()
    check("your data with errors")
    page.goto("/account/history")
    check("my activity with restore buttons")
    page.goto("/account/privacy")
    page.fill("#delete-password", PASSWORD)
    page.check("#delete-confirm")
    page.click("#delete-submit")
    expect(page.locator("#deletion-scheduled-page")).to_be_visible()
    check("deletion scheduled")
    page.goto("/account/keep/" + "A" * 43)
    check("keep link not valid")

    signed_in(page, admin["username"], landing=f"/users/{person['user_id']}")
    expect(page.locator("#user-deletion-badge")).to_be_visible()
    check("manage user with a scheduled deletion")
    page.goto("/users?deleting=yes")
    check("users with a scheduled deletion")
    first = _updates(live, person["user_id"])[0]
    live.update(person["user_id"], {"display_name": "R"})
    page.goto(f"/users/{person['user_id']}/history")
    page.click(f"#restore-{first}-display_name")
    expect(page.locator("#restore-conflict")).to_be_visible()
    check("restore conflict")
    assert not problems, problems
