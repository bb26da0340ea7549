"""Two-factor sign-in in a real browser (SPEC §10): enrol by reading the key off the page and typing a code
made by pyotp, log in with the code (and a recovery code) in a second step, with JavaScript and without;
a typo at enrolment (without JavaScript), turning it off, a super-user turning it off, the keyboard and the
CSP; axe on every new page in light and dark."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from .ui import PASSWORD, axe_check, flash, log_in, signed_in

# Nothing here depends on the database: the SQLite server only.
pytestmark = pytest.mark.parametrize("live", ["sqlite"], indirect=True)

KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def next_code(key: str) -> str:
    """The code of the next time-step: still inside the ±1 window, and later than any code used just now."""
    return pyotp.TOTP(key).at(time.time() + 30)


def enrol(page: Page) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on from My account; returns the key read off the page and the recovery codes."""
    page.goto("/account")
    page.click("#two-factor-link")
    page.wait_for_url("**/account/two-factor")
    expect(page.locator("#totp-state")).to_contain_text("off")
    expect(page.locator(".totp-qr-figure svg")).to_be_visible()
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    page.fill("#totp-code", pyotp.TOTP(key).now())
    page.fill("#totp-password", PASSWORD)
    page.fill("#totp-label", "Test phone")
    page.click("#enable-submit")
    expect(page.locator("#recovery-code-list li")).to_have_count(10)
    codes = [text.strip() for text in page.locator("#recovery-code-list li").all_inner_texts()]
    expect(flash(page)).to_contain_text("Two-factor sign-in is on")
    return key, codes


def log_out(page: Page) -> None:
    page.click("#logout-button")
    page.wait_for_url("**/login")


def second_step(page: Page, username: str, code: str) -> None:
    log_in(page, username, landing=None)
    expect(page.locator("#code-form")).to_be_visible()
    page.fill("#login-code", code)
    page.click("#code-submit")


def test_enrol_then_log_in_with_a_code_and_with_a_recovery_code(pages, live, js):
    user = live.user("totp")
    page = signed_in(pages.new(js=js), user["username"])
    key, codes = enrol(page)
    assert len(set(codes)) == 10
    stored = live.get(user["user_id"])
    assert (stored["is_totp_enabled"], stored["totp_label"]) == (True, "Test phone")
    page.click("#codes-done")
    expect(page.locator("#totp-state")).to_contain_text("on")
    expect(page.locator("#recovery-left")).to_contain_text("10")
    log_out(page)

    second_step(page, user["username"], "000000" if next_code(key) != "000000" else "111111")
    expect(page.locator("#code-error")).to_contain_text("not right")
    page.fill("#login-code", next_code(key))
    page.click("#code-submit")
    page.wait_for_url("**/account")
    expect(page.locator("#two-factor-state")).to_contain_text("On")
    log_out(page)

    second_step(page, user["username"], codes[0].lower())
    page.wait_for_url("**/account")
    expect(flash(page)).to_contain_text("9 left")
    log_out(page)
    second_step(page, user["username"], codes[0])
    expect(page.locator("#code-error")).to_be_visible()


def test_a_wrong_password_or_code_at_enrolment_turns_nothing_on(pages, live):
    user = live.user("totp-typo")
    page = signed_in(pages.new(js=False), user["username"], landing="/account/two-factor")
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    page.fill("#totp-code", pyotp.TOTP(KEY).now() if pyotp.TOTP(KEY).now() != pyotp.TOTP(key).now() else "000000")
    page.fill("#totp-password", PASSWORD)
    page.click("#enable-submit")
    expect(page.locator("#enable-errors")).to_be_visible()
    expect(page.locator("#totp-code-error")).to_contain_text("not the current code")
    expect(page.locator("#totp-key")).to_have_text(" ".join(key[i : i + 4] for i in range(0, len(key), 4)))
    assert live.get(user["user_id"])["is_totp_enabled"] is False
    page.fill("#totp-code", pyotp.TOTP(key).now())
    page.fill("#totp-password", "Not-My-Password-1")
    page.click("#enable-submit")
    expect(page.locator("#totp-password-error")).to_contain_text("not your current password")
    assert live.get(user["user_id"])["is_totp_enabled"] is False


def test_turning_it_off_and_new_recovery_codes(pages, live):
    user = live.user("totp-off")
    page = signed_in(pages.new(), user["username"])
    _, old_codes = enrol(page)
    page.goto("/account/two-factor")
    page.fill("#regenerate-password", PASSWORD)
    page.click("#regenerate-submit")
    expect(page.locator("#recovery-code-list li")).to_have_count(10)
    new_codes = page.locator("#recovery-code-list li").all_inner_texts()
    assert not set(new_codes) & set(old_codes)
    assert live.login_error(user["username"], PASSWORD) == ["E005008"]
    page.goto("/account/two-factor")
    page.fill("#disable-password", "Not-My-Password-1")
    page.click("#disable-submit")
    expect(page.locator("#totp-failure")).to_contain_text("Still on")
    page.fill("#disable-password", PASSWORD)
    page.click("#disable-submit")
    expect(flash(page)).to_contain_text("Two-factor sign-in is off")
    assert live.login_error(user["username"], PASSWORD) is None


def test_a_super_user_turns_a_users_two_factor_sign_in_off(pages, live):
    admin = live.user("totp-admin", super_user=True)
    target = live.user("totp-lost", totp_key=KEY, is_totp_enabled=True, totp_label="Lost phone")
    page = signed_in(pages.new(), admin["username"], landing=f"/users/{target['user_id']}")
    expect(page.locator("#user-totp-state")).to_contain_text("Lost phone")
    page.click("#totp-off-button")
    expect(flash(page)).to_contain_text("Two-factor sign-in is off for this user")
    expect(page.locator("#user-totp-state")).to_have_text("Off.")
    assert live.get(target["user_id"])["is_totp_enabled"] is False


def test_the_code_step_works_from_the_keyboard_and_the_csp_holds(pages, live):
    user = live.user("totp-kbd", totp_key=KEY, is_totp_enabled=True)
    page = pages.new()
    log_in(page, user["username"], landing=None)
    expect(page.locator("#code-form")).to_be_visible()
    page.locator("#login-code").focus()
    page.keyboard.type(next_code(KEY))
    page.keyboard.press("Enter")
    page.wait_for_url("**/account")
    response = page.goto("/account/two-factor")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    other = live.user("totp-csp")
    page.context.clear_cookies()
    signed_in(page, other["username"], landing="/account/two-factor")
    expect(page.locator(".totp-qr-figure svg")).to_be_visible()
    assert [message for message in page.console if "Content Security Policy" in message] == []


def test_axe_finds_no_serious_violations_on_the_two_factor_pages(pages, live):
    user = live.user("a11y-totp")
    admin = live.user("a11y-totp-admin", super_user=True)
    target = live.user("a11y-totp-target", totp_key=KEY, is_totp_enabled=True)
    page = pages.new(axe=True)
    problems: dict[str, list] = {}

    def check(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        found = axe_check(page, label)
        if found:
            problems[label] = found

    signed_in(page, user["username"], landing="/account/two-factor")
    check("two-factor off, new key")
    page.fill("#totp-code", "000000")
    page.fill("#totp-password", "Not-My-Password-1")
    page.click("#enable-submit")
    expect(page.locator("#enable-errors")).to_be_visible()
    check("two-factor enrolment with errors")
    key, _ = enrol(page)
    check("recovery codes shown once")
    page.goto("/account/two-factor")
    check("two-factor on")
    page.fill("#disable-password", "Not-My-Password-1")
    page.click("#disable-submit")
    check("two-factor turn-off refused")
    log_out(page)
    log_in(page, user["username"], landing=None)
    check("login code step")
    page.fill("#login-code", "000000" if next_code(key) != "000000" else "111111")
    page.click("#code-submit")
    expect(page.locator("#code-error")).to_be_visible()
    check("login code step, wrong code")
    page.context.clear_cookies()
    signed_in(page, admin["username"], landing=f"/users/{target['user_id']}")
    check("manage user with two-factor on")
    assert not problems, problems
