"""Chromium, with JavaScript on and off: sign up → the emailed link → confirm → log in; forgot password → the
emailed link → a new password → log in. One gunicorn on SQLite mailing a real SMTP server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from ..mailbox import link_in
from .ui import PASSWORD, Live, axe_check, flash, log_in, mailing_server

NEW_PASSWORD = "Brand-New-Horse-31"


@pytest.fixture(scope="module")
def live(request, tmp_path_factory, mailbox) -> Iterator[Live]:
    """gunicorn on SQLite with console sign-up open (no approval) and SMTP to the module's mailbox."""
    with mailing_server(
        request, tmp_path_factory, mailbox, SSO_SIGNUP_APPS="Console", SSO_SIGNUP_APPROVAL_NEEDED="0"
    ) as found:
        yield found


def test_sign_up_open_the_emailed_link_confirm_and_log_in(pages, live, mailbox, js):
    page = pages.new(js=js)
    name, email = f"newcomer-{uuid.uuid4().hex[:6]}", f"{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/login")
    page.click("#login-signup")
    expect(page.locator("h1")).to_have_text("Create an account")
    page.fill("#signup-username", name)
    page.fill("#signup-email", email)
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-password-confirm", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("h1")).to_have_text("Check your email")
    expect(page.locator("#signup-sent-to")).to_have_text(email)

    page.goto(link_in(mailbox.for_(email)))
    expect(page.locator("#confirm-username")).to_have_text(name)
    page.click("#confirm-submit")
    page.wait_for_url("**/login")
    expect(flash(page)).to_contain_text("Your account is confirmed")
    log_in(page, name)
    expect(page.locator("#nav-username")).to_have_text(name)


def test_forgot_password_open_the_emailed_link_choose_a_new_password_and_log_in(pages, live, mailbox, js):
    user = live.user("forgetful", email=f"forgetful-{uuid.uuid4().hex[:8]}@example.com")
    page = pages.new(js=js)
    page.goto("/login")
    page.click("#login-forgot")
    page.fill("#forgot-credential", user["username"])
    page.click("#forgot-submit")
    expect(page.locator("h1")).to_have_text("Check your email")

    page.goto(link_in(mailbox.for_(user["email"])))
    expect(page.locator("#reset-username")).to_have_text(user["username"])
    page.fill("#reset-password", NEW_PASSWORD)
    page.fill("#reset-password-confirm", "Not-The-Same-42")
    page.click("#reset-submit")
    expect(page.locator("#reset-password-confirm-error")).to_have_text("does not match the new password")
    page.fill("#reset-password", NEW_PASSWORD)
    page.fill("#reset-password-confirm", NEW_PASSWORD)
    page.click("#reset-submit")
    page.wait_for_url("**/login")
    expect(flash(page)).to_contain_text("Your new password is set")
    log_in(page, user["username"], NEW_PASSWORD)
    assert live.login_error(user["username"], PASSWORD) == ["E005001"]


def test_the_email_pages_have_no_serious_accessibility_violations(pages, live, mailbox):
    page = pages.new(axe=True)
    problems: dict[str, list] = {}

    def check(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        found = axe_check(page, label, widths=(390,), strict=True)  # light, dark, a phone; moderate ones too
        if found:
            problems[label] = found

    email = f"{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/login")
    expect(page.locator("#login-signup")).to_be_visible()
    check("login with sign-up and forgot password")
    page.goto("/signup")
    check("sign up")
    page.fill("#signup-username", "has space")
    page.fill("#signup-email", email)
    page.fill("#signup-password", "short")
    page.fill("#signup-password-confirm", "short")
    page.evaluate("document.getElementById('signup-form').noValidate = true")
    page.click("#signup-submit")
    expect(page.locator("#signup-username-error")).to_be_visible()
    expect(page.locator("#field-errors")).to_be_focused()  # the summary of every mistake takes the focus
    check("sign up with errors")
    page.fill("#signup-username", f"a11y-{uuid.uuid4().hex[:6]}")
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-password-confirm", PASSWORD)
    page.click("#signup-submit")
    check("check your email")
    page.goto(link_in(mailbox.for_(email)))
    check("confirm")
    page.goto("/signup/confirm/" + "x" * 43)
    check("link not valid")
    page.goto("/password/forgot")
    check("forgot password")
    user = live.user("a11y-reset", email=f"r-{uuid.uuid4().hex[:8]}@example.com")
    page.fill("#forgot-credential", user["username"])
    page.click("#forgot-submit")
    check("forgot password sent")
    page.goto(link_in(mailbox.for_(user["email"])))
    check("choose a new password")
    assert problems == {}
