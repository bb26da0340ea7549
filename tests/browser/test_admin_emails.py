"""Chromium, with JavaScript on and off: an administrator sends a verify-email link from Manage user, the message
arrives at a real SMTP server (through the outbox worker beside gunicorn), and the person confirms the address on
the link's page (the `verify_email` required action's own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from ..core.helpers import audit_of
from ..mailbox import link_in
from .ui import Live, flash, mailing_server, signed_in


@pytest.fixture(scope="module")
def live(request, tmp_path_factory, mailbox) -> Iterator[Live]:
    """gunicorn on SQLite mailing the module's mailbox, its outbox worker beside it."""
    with mailing_server(request, tmp_path_factory, mailbox) as found:
        yield found


def test_send_a_verify_email_link_from_manage_user_and_confirm_it(pages, live, mailbox, js):
    admin = live.user("admin", super_user=True)
    person = live.user("person", email=f"{uuid.uuid4().hex[:10]}@example.com")
    page = signed_in(pages.new(js=js), admin["username"], landing=f"/users/{person['user_id']}")
    expect(page.locator("#emails-heading")).to_have_text("Emails")
    page.click("#email-verify_email-button")
    page.wait_for_url(f"**/users/{person['user_id']}")
    expect(flash(page)).to_contain_text(f"A verify-email link is on its way to {person['email']}.")

    visitor = pages.new(js=js)
    visitor.goto(link_in(mailbox.for_(person["email"])))
    visitor.click("#verify-confirm")
    expect(flash(visitor)).to_contain_text("Your email address is confirmed.")
    assert len(audit_of(live.sso, person["user_id"], "email_verified")) == 1
