"""Required actions in a real browser (SPEC §19), with JavaScript and without: a signed-in person whose
administrator asked for a new password, two-factor sign-in and the terms is led through them in that order,
page by page, before anything else; each step clears itself when done; the steps banner says where they are.
Also a person asked only to accept the terms at login, and axe on the new pages."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Page, expect

from webapp.sso import Call

from .ui import PASSWORD, SEED_APP, axe_check, flash, log_in, signed_in

pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)

NEW_PASSWORD = "Brand-New-Horse-42"


@pytest.fixture(scope="module")
def terms(live):
    """One version of the terms, published without asking everyone (the live server is shared by every browser
    test): each test asks its own user."""
    admin = live.sso.serve(Call("browser", live._ust, SEED_APP, "127.0.0.1", "python", None))
    current = admin.current_terms()
    return current if current is not None else admin.publish_terms("# House rules\n\nBe **kind**.", False)


def steps(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#required-steps li").all_inner_texts()]


def test_led_through_a_new_password_two_factor_and_the_terms_in_order(pages, live, js, terms):
    user = live.user("steps")
    page = signed_in(pages.new(js=js), user["username"])
    live.update(user["user_id"], {"required_actions": ["accept_terms", "set_up_two_factor", "change_password"]})
    page.goto("/users")  # anything else: the first action's page instead
    page.wait_for_url("**/account/password")
    assert len(steps(page)) == 3 and steps(page)[0].startswith("Choose a new password")
    page.fill("#old-password", PASSWORD)
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#confirm-password", NEW_PASSWORD)
    page.click("#password-submit")
    page.wait_for_url("**/account/two-factor")
    assert steps(page)[0].startswith("Set up two-factor sign-in") and len(steps(page)) == 2
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    page.fill("#totp-code", pyotp.TOTP(key).now())
    page.fill("#totp-password", NEW_PASSWORD)
    page.click("#enable-submit")
    expect(page.locator("#recovery-code-list li")).to_have_count(10)  # shown once, even mid-way through the steps
    expect(page.locator("#required-steps")).to_have_count(0)  # it no longer asks for the step just done
    page.click("#codes-done")
    page.wait_for_url("**/terms")
    expect(page.locator("#terms-text h1")).to_have_text("House rules")
    assert steps(page) == ["Accept the terms (this page)"]
    page.click("#terms-accept")
    page.wait_for_url("**/account")
    expect(flash(page)).to_contain_text("you accepted the terms")
    expect(page.locator("#required-steps")).to_have_count(0)
    assert live.get(user["user_id"])["required_actions"] == []
    assert live.get(user["user_id"])["is_totp_enabled"] is True


def test_asked_at_login_for_a_new_password_then_the_terms(pages, live, js, terms):
    user = live.user("terms", required_actions=["accept_terms", "change_password"])
    page = log_in(pages.new(js=js, axe=js), user["username"], landing=None)
    # change_password is Zato's must-change flag: the login's own new-password step (E003007) comes first
    expect(page.locator("#new-password-form")).to_be_visible()
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#new-password-confirm", NEW_PASSWORD)
    page.click("#new-password-submit")
    page.wait_for_url("**/terms")
    expect(page.locator("#required-steps")).to_be_visible()
    if js:
        assert axe_check(page, "terms to accept") == []
    page.goto("/account/passkeys")  # not this step's page
    page.wait_for_url("**/terms")
    page.click("#terms-accept")
    page.wait_for_url("**/account")
    expect(page.locator("#required-steps")).to_have_count(0)
    assert terms.version in [
        a.version
        for a in live.sso.serve(Call("browser", live._ust, SEED_APP, "127.0.0.1", "python", None)).terms_acceptances(
            user["user_id"]
        )
    ]


def test_require_an_action_of_every_user_a_filter_matches(pages, live, js):
    admin = live.user("ra-admin", super_user=True)
    prefix = f"team{'js' if js else 'plain'}{admin['user_id'][-6:]}"
    members = [live.user(f"{prefix}-{n}") for n in range(3)]
    page = signed_in(pages.new(js=js), admin["username"], landing=f"/users?q={prefix}")
    expect(page.locator("#ra-scope option[value=filter]")).to_have_text("every user matching this filter (3)")
    page.select_option("#ra-action", "set_up_two_factor")
    page.select_option("#ra-scope", "filter")
    page.click("#ra-apply")
    expect(page.locator("#confirm-heading")).to_contain_text("of 3 users matching this filter?")
    assert all(live.get(m["user_id"])["required_actions"] == [] for m in members)  # nothing before confirming
    page.click("#confirm-button")
    page.wait_for_url(f"**/users?q={prefix}")
    expect(flash(page)).to_contain_text("Done: 3 users changed")
    assert all(live.get(m["user_id"])["required_actions"] == ["set_up_two_factor"] for m in members)
