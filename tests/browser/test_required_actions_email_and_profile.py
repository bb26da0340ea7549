"""The two required actions the other browser tests leave out (SPEC §19), in Chromium with JavaScript and
without: `verify_email` (the page sends a link through the outbox, the emailed link confirms the address)
and `complete_profile` (My account until every required profile field is filled). A server of its own: a
required profile field would stop every other test's saves on the shared one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from webapp.sso import Call

from ..mailbox import link_in
from .ui import SEED_APP, Live, mailing_server, signed_in, unique


@pytest.fixture(scope="module")
def live(request, tmp_path_factory, mailbox) -> Iterator[Live]:
    with mailing_server(request, tmp_path_factory, mailbox) as found:
        seed = found.sso.serve(Call("browser", found._ust, SEED_APP, "127.0.0.1", "python", None))
        seed.define_profile_field({"name": "badge", "label": "Badge", "type": "integer", "required": True})
        yield found


def test_verify_email_sends_a_link_and_the_link_confirms_the_address(pages, live, mailbox, js):
    address = f"{unique('v')}@example.com"
    user = live.user("verify", email=address, badge=1)
    page = signed_in(pages.new(js=js), user["username"])
    live.update(user["user_id"], {"required_actions": ["verify_email"]})
    page.goto("/users")  # anything else leads to the step's page
    page.wait_for_url("**/account/verify-email")
    expect(page.locator("#required-steps")).to_be_visible()
    page.click("#verify-send")
    expect(page.locator("#messages")).to_contain_text(address)
    page.goto(link_in(mailbox.for_(address)))
    page.click("#verify-confirm")
    page.wait_for_url("**/account")
    expect(page.locator("#messages")).to_contain_text("Your email address is confirmed.")
    expect(page.locator("#required-steps")).to_have_count(0)
    assert live.get(user["user_id"])["required_actions"] == []


def test_complete_profile_keeps_my_account_until_the_required_field_is_filled(pages, live, js):
    user = live.user("profile")
    page = signed_in(pages.new(js=js), user["username"])
    live.update(user["user_id"], {"required_actions": ["complete_profile"]})
    page.goto("/account/two-factor")
    page.wait_for_url("**/account")
    expect(page.locator("#required-steps")).to_contain_text("Complete your profile")
    page.fill("#f-badge", "42")
    page.click("#save")
    expect(page.locator("#messages")).to_contain_text("Saved")
    page.goto("/account/two-factor")  # free to go anywhere now
    expect(page).to_have_url(f"{live.url}/account/two-factor")
    expect(page.locator("#required-steps")).to_have_count(0)
    assert live.get(user["user_id"])["required_actions"] == [] and live.get(user["user_id"])["badge"] == 42
