"""Languages in Chromium (SPEC §22): the footer picker without JavaScript; axe-core clean in German and Polish,
and no page wider than a 390 px phone with the longer German labels (screenshots of My account and Manage user
in German at 390 px are written to test-results/ to be looked at)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from webapp.sso import Call

from .ui import SEED_APP, axe_check, log_in, signed_in

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)
SHOTS = Path(__file__).resolve().parents[2] / "test-results"
PHONE = 390


def test_the_footer_picker_works_without_javascript_and_saves_the_locale(pages, live):
    person = live.user("picker-nojs")
    page = pages.new(js=False, locale="en-US")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.select_option("#language-select", "pl")
    page.click("#language-submit")
    expect(page).to_have_url(f"{live.url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.locator("h1")).to_have_text("Zaloguj się")

    log_in(page, person["username"])
    expect(page.locator("h1")).to_have_text("Moje konto")  # the choice survives signing in
    assert live.get(person["user_id"])["locale"] is None  # kept by the browser until a signed-in choice
    page.select_option("#language-select", "de")
    page.click("#language-submit")
    expect(page).to_have_url(f"{live.url}/account")
    expect(page.locator("h1")).to_have_text("Mein Konto")
    assert live.get(person["user_id"])["locale"] == "de"
    expect(page.locator("#history-card")).to_contain_text("Sprache")  # the change is in the audit history


@pytest.mark.parametrize("tag", ["de", "pl"])
def test_axe_finds_nothing_serious_in_german_and_polish_and_nothing_is_wider_than_a_phone(pages, live, tag):
    admin = live.user(f"a11y-{tag}-admin", super_user=True, email=f"a11y-{tag}@example.com", display_name="Admin")
    target = live.user(f"a11y-{tag}-target", email=f"t-{tag}@example.com", display_name="Target", is_locked=True)
    page = pages.new(axe=True, locale=tag)
    problems: dict[str, list] = {}
    seed = live.sso.serve(Call("browser", live._ust, SEED_APP, "127.0.0.1", "python", None))
    if seed.current_terms() is None:  # the terms page needs a version (not asked of everyone: a shared server)
        seed.publish_terms("# House rules\n\nBe **kind**.", False)

    def check(label: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", tag)
        found = axe_check(page, f"{tag} {label}", widths=(PHONE,))
        if found:
            problems[label] = found

    page.goto("/login")
    check("login")
    signed_in(page, admin["username"])
    check("my account")
    for path, label in (
        ("/account/password", "change password"),
        ("/account/two-factor", "two-factor"),
        ("/account/history", "my activity"),
        ("/users", "users list"),
        ("/users/new", "new user"),
        (f"/users/{target['user_id']}", "manage user"),
        (f"/users/{target['user_id']}/history", "user history"),
        (f"/users/{target['user_id']}/confirm?action=delete", "confirm delete"),
        ("/api-clients", "api clients"),
        ("/outbox", "outbox"),  # the target's lock notice waits there: a table of six columns
        ("/roles/helpdesk", "role"),
        ("/profile-fields/new", "new profile field"),
        ("/terms/manage", "terms admin"),
        ("/terms", "terms"),
        ("/policies", "policies"),
    ):
        page.goto(path)
        check(label)
    if tag == "de":
        page.set_viewport_size({"width": PHONE, "height": 844})
        page.goto("/roles/helpdesk")  # each permission's name stays on one line beside a long German meaning
        lines = page.eval_on_selector_all(
            ".permission-checklist label code", "els => els.map(e => e.getClientRects().length)"
        )
        assert lines and set(lines) == {1}, lines
        SHOTS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": PHONE, "height": 844})
        for path, name in (("/account", "account"), (f"/users/{target['user_id']}", "manage-user")):
            page.goto(path)
            page.screenshot(path=str(SHOTS / f"languages-de-{PHONE}-{name}.png"), full_page=True)
            height = page.evaluate("document.documentElement.scrollHeight")
            for part, top in enumerate(range(0, height, 900)):  # screen-sized parts, readable one by one
                clip = {"x": 0, "y": top, "width": PHONE, "height": min(900, height - top)}
                page.screenshot(path=str(SHOTS / f"languages-de-{PHONE}-{name}-{part}.png"), full_page=True, clip=clip)
    assert not problems, problems
