"""Passkeys in a real browser (SPEC §18): Chromium's virtual authenticator (DevTools `WebAuthn` domain: CTAP2,
internal transport, resident keys, user verification) makes and uses real credentials; nothing is mocked.

WebAuthn needs a secure context and a domain as RP ID, so this module serves on http://localhost (not
127.0.0.1): the app runs in a threaded WSGI server of its own, in this process, whose service clock the tests
move (re-authentication after 5 minutes). Everything else is as on the other browser tests' gunicorn.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from webapp import create_app
from webapp.db import reading
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.tables import audit, passkeys

from ..conftest import app_config, fresh_database
from ..passkey_authenticator import unb64
from ..server import free_port
from .ui import AXE, PASSWORD, Live, axe_check, flash, log_in, signed_in


class Clock:
    """The service's clock: real time moved by `offset`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@dataclass
class Site:
    live: Live
    clock: Clock

    @property
    def url(self) -> str:
        return self.live.url


@pytest.fixture(scope="module")
def site(request, tmp_path_factory) -> Iterator[Site]:
    db_url = fresh_database("sqlite", request, tmp_path_factory)
    port = free_port()
    url = f"http://localhost:{port}"
    app = create_app(app_config(db_url, SSO_PUBLIC_URL=url, SSO_LOGIN_MAX_FAILURES=100))
    clock = Clock()
    app.extensions["sso"].ctx.clock = clock
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(Live("sqlite", url, db_url, app), clock)
    finally:
        server.shutdown()
        thread.join(10)
        app.extensions["sso_engine"].dispose()


@pytest.fixture(autouse=True)
def real_time(site):
    site.clock.offset = timedelta()
    yield
    site.clock.offset = timedelta()


@pytest.fixture
def open_page(browser: Browser, site) -> Iterator:
    """Pages in contexts of their own (each its own cookie jar and authenticator), closed after the test."""
    made = []

    def new(*, js: bool = True, axe: bool = False, init: str | None = None, **options) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=site.url, java_script_enabled=js, **options)
        if axe:
            context.add_init_script(path=str(AXE))
        if init:
            context.add_init_script(init)
        context.set_default_timeout(10_000)
        made.append(context)
        page = context.new_page()
        console: list[str] = []
        page.console = console  # type: ignore[attr-defined]
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        return page

    yield new
    for context in made:
        context.close()


class Authenticator:
    """A virtual authenticator attached to `page` (CTAP2, built in, resident keys, user verification)."""

    def __init__(self, page: Page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def add(self, credential: dict) -> None:
        self.cdp.send("WebAuthn.addCredential", {"authenticatorId": self.id, "credential": credential})


def stored(site, user_id: str) -> list[dict]:
    with reading(site.live.sso.ctx.engine) as conn:
        query = select(passkeys).where(passkeys.c.user_id == user_id).order_by(passkeys.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]


def audited(site, user_id: str, action: str) -> list[dict]:
    with reading(site.live.sso.ctx.engine) as conn:
        query = select(audit).where(audit.c.target_id == user_id, audit.c.action == action)
        return [dict(row) for row in conn.execute(query).mappings()]


def add_passkey(page: Page, name: str, password: str | None = None) -> None:
    page.goto("/account/passkeys")
    page.fill("#passkey-name", name)
    if password is not None:
        page.fill("#passkey-password", password)
    page.click("#passkey-add-submit")
    expect(flash(page)).to_contain_text(f"Passkey “{name}” added")


def sign_in_with_passkey(page: Page) -> None:
    page.goto("/login")
    page.click("#passkey-login-submit")


def log_out(page: Page) -> None:
    page.goto("/account")
    page.click("#logout-button")
    page.wait_for_url("**/login")


# --- the person ------------------------------------------------------------------------------------------------


def test_add_a_passkey_then_sign_in_with_nothing_else(site, open_page):
    user = site.live.user("pk")
    page = signed_in(open_page(), user["username"])
    key = Authenticator(page)
    page.click("#passkeys-link")
    page.wait_for_url("**/account/passkeys")
    expect(page.locator("#passkey-none")).to_be_visible()
    expect(page.locator("#passkey-password-field")).to_be_hidden()  # signed in just now: no password asked
    add_passkey(page, "Work laptop")
    [row] = stored(site, user["user_id"])
    assert [base64.b64decode(c["credentialId"]) for c in key.credentials()] == [unb64(row["credential_id"])]
    item = page.locator(f"#passkey-{row['passkey_id']}")
    expect(item).to_contain_text("Work laptop")
    expect(item).to_contain_text("on one device only")
    expect(item).to_contain_text("never")
    assert row["transports"] == ["internal"]
    log_out(page)
    sign_in_with_passkey(page)
    page.wait_for_url("**/account")
    expect(page.locator("#account-username")).to_have_text(user["username"])
    page.goto("/account/passkeys")
    expect(page.locator(f"#passkey-{row['passkey_id']}")).not_to_contain_text("never")
    assert stored(site, user["user_id"])[0]["last_use_time"] is not None
    assert not [line for line in page.console if "Content Security Policy" in line]  # type: ignore[attr-defined]


def test_the_fallback_code_works_where_the_json_helpers_are_missing(site, open_page):
    strip = (
        "delete PublicKeyCredential.parseCreationOptionsFromJSON;"
        "delete PublicKeyCredential.parseRequestOptionsFromJSON;"
        "delete PublicKeyCredential.prototype.toJSON;"
    )
    user = site.live.user("pkold")
    page = signed_in(open_page(init=strip), user["username"])
    assert page.evaluate("typeof PublicKeyCredential.parseCreationOptionsFromJSON") == "undefined"
    Authenticator(page)
    add_passkey(page, "Old browser")
    log_out(page)
    sign_in_with_passkey(page)
    page.wait_for_url("**/account")
    expect(page.locator("#account-username")).to_have_text(user["username"])


def test_a_passkey_replaces_the_code_at_the_two_factor_step(site, open_page):
    user = site.live.user("pk2fa")
    page = signed_in(open_page(), user["username"])
    Authenticator(page)
    add_passkey(page, "Phone")
    site.live.update(user["user_id"], {"totp_key": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "is_totp_enabled": True})
    log_out(page)
    log_in(page, user["username"], landing=None)
    expect(page.locator("#code-form")).to_be_visible()
    page.click("#passkey-factor-submit")
    page.wait_for_url("**/account")
    expect(page.locator("#account-username")).to_have_text(user["username"])
    assert audited(site, user["user_id"], "login")[-1]["changes"] == {"passkey": {"old": None, "new": "Phone"}}


def test_rename_and_remove(site, open_page, js):
    user = site.live.user("pkedit")
    maker = signed_in(open_page(), user["username"])
    Authenticator(maker)
    add_passkey(maker, "Laptop")
    [row] = stored(site, user["user_id"])
    page = signed_in(open_page(js=js), user["username"])
    page.goto("/account/passkeys")
    page.fill(f"#rename-{row['passkey_id']}", "Home laptop")
    page.click(f"#rename-submit-{row['passkey_id']}")
    expect(flash(page)).to_contain_text("Renamed to “Home laptop”")
    expect(page.locator(f"#passkey-{row['passkey_id']} .passkey-name")).to_have_text("Home laptop")
    page.click(f"#remove-{row['passkey_id']}")
    expect(flash(page)).to_contain_text("Passkey removed")
    expect(page.locator("#passkey-none")).to_be_visible()
    assert stored(site, user["user_id"]) == []
    assert len(audited(site, user["user_id"], "passkey_rename")) == 1
    assert len(audited(site, user["user_id"], "passkey_remove")) == 1


def test_a_second_authenticator_and_each_signs_in(site, open_page):
    user = site.live.user("pktwo")
    laptop = signed_in(open_page(), user["username"])
    Authenticator(laptop)
    add_passkey(laptop, "Laptop")
    phone = signed_in(open_page(), user["username"])
    Authenticator(phone)
    add_passkey(phone, "Phone")
    expect(phone.locator(".passkey-name")).to_have_text(["Laptop", "Phone"])
    for page in (laptop, phone):
        log_out(page)
        sign_in_with_passkey(page)
        page.wait_for_url("**/account")
    assert all(row["last_use_time"] is not None for row in stored(site, user["user_id"]))


def test_the_same_authenticator_is_not_added_twice(site, open_page):
    user = site.live.user("pkdup")
    page = signed_in(open_page(), user["username"])
    Authenticator(page)
    add_passkey(page, "Laptop")
    page.fill("#passkey-name", "Laptop again")
    page.click("#passkey-add-submit")
    expect(page.locator("#passkey-add-status")).to_contain_text("This device already holds a passkey")
    assert len(stored(site, user["user_id"])) == 1


def test_a_cloned_authenticator_is_refused_and_audited(site, open_page):
    user = site.live.user("pkclone")
    page = signed_in(open_page(), user["username"])
    original = Authenticator(page)
    add_passkey(page, "Key")
    log_out(page)
    sign_in_with_passkey(page)
    page.wait_for_url("**/account")
    [credential] = original.credentials()
    assert credential["signCount"] >= 1
    clone_page = open_page()
    clone_page.goto("/login")
    clone = Authenticator(clone_page)
    clone.add({**credential, "signCount": 0})  # the same key, its counter rewound: a copy
    clone_page.click("#passkey-login-submit")
    expect(clone_page.locator("#login-error")).to_contain_text("That passkey did not sign you in")
    [cloned] = audited(site, user["user_id"], "passkey_cloned")
    assert cloned["changes"]["sign_count"]["new"] <= cloned["changes"]["sign_count"]["old"]
    log_out(page)
    sign_in_with_passkey(page)  # the original goes on working
    page.wait_for_url("**/account")


def test_after_five_minutes_adding_asks_for_the_password(site, open_page):
    user = site.live.user("pklate")
    page = signed_in(open_page(), user["username"])
    Authenticator(page)
    site.clock.offset = timedelta(minutes=6)
    page.goto("/account/passkeys")
    expect(page.locator("#passkey-password-field")).to_be_visible()
    page.fill("#passkey-name", "Laptop")
    page.click("#passkey-add-submit")
    expect(page.locator("#passkey-password-error")).to_contain_text("enter your current password")
    assert stored(site, user["user_id"]) == []
    page.fill("#passkey-password", "not my password")
    page.click("#passkey-add-submit")
    expect(page.locator("#passkey-password-error")).to_contain_text("is not your current password")
    page.fill("#passkey-password", PASSWORD)
    page.click("#passkey-add-submit")
    expect(flash(page)).to_contain_text("Passkey “Laptop” added")


def test_after_five_minutes_a_passkey_confirms_it_instead_of_the_password(site, open_page):
    user = site.live.user("pkreauth")
    page = signed_in(open_page(), user["username"])
    Authenticator(page)
    add_passkey(page, "Laptop")
    [row] = stored(site, user["user_id"])
    site.clock.offset = timedelta(minutes=6)
    page.goto("/account/passkeys")
    expect(page.locator(f"#remove-password-{row['passkey_id']}")).to_be_visible()
    page.click(f"#reauth-remove-{row['passkey_id']}")
    expect(flash(page)).to_contain_text("Passkey removed")
    assert stored(site, user["user_id"]) == []
    assert audited(site, user["user_id"], "passkey_remove")


def test_after_five_minutes_a_passkey_confirms_downloading_my_data(site, open_page):
    """Your data (SPEC §20): the download asks for the password after 5 minutes, or one of the person's passkeys
    (a real ceremony with the virtual authenticator); the file comes, the answer is not sent twice."""
    user = site.live.user("pkdata")
    page = signed_in(open_page(axe=True), user["username"])
    Authenticator(page)
    add_passkey(page, "Laptop")
    site.clock.offset = timedelta(minutes=6)
    page.goto("/account/privacy")
    expect(page.locator("#reauth-export")).to_be_visible()  # shown by the script where WebAuthn works
    assert axe_check(page, "your data with a passkey", widths=(390,)) == []
    with page.expect_download() as download:
        page.click("#reauth-export")
    document = json.loads(Path(download.value.path()).read_text())
    assert (document["format"], document["user"]["user_id"]) == ("sso-user-export", user["user_id"])
    assert download.value.suggested_filename == f"my-data-{user['username']}.json"
    expect(page.locator("#export-status")).to_contain_text("Confirmed")
    [row] = stored(site, user["user_id"])
    assert row["last_use_time"] is not None
    assert len(audited(site, user["user_id"], "export")) == 1
    # A second click of Download (no new confirmation): the password or the passkey is asked for again.
    page.click("#export-submit")
    expect(page.locator("#export-password-error")).to_contain_text("confirm with a passkey")
    assert len(audited(site, user["user_id"], "export")) == 1


def test_an_administrators_copy_of_a_users_data_is_confirmed_with_their_passkey(site, open_page):
    admin = site.live.user("pkdataadmin", super_user=True)
    person = site.live.user("pkdatauser")
    page = signed_in(open_page(), admin["username"])
    Authenticator(page)
    add_passkey(page, "Admin key")
    site.clock.offset = timedelta(minutes=6)
    page.goto(f"/users/{person['user_id']}")
    page.click("#user-export-submit")
    expect(page.locator("#export-password-refusal")).to_contain_text("confirm with a passkey")
    with page.expect_download() as download:
        page.click("#reauth-user-export")
    document = json.loads(Path(download.value.path()).read_text())
    assert (document["user"]["user_id"], document["produced_by"]) == (person["user_id"], "an administrator")
    [exported] = audited(site, person["user_id"], "export")
    assert exported["actor_id"] == admin["user_id"]


def test_without_javascript_or_webauthn_the_pages_say_so(site, open_page):
    user = site.live.user("pknojs")
    page = open_page(js=False)
    page.goto("/login")
    expect(page.locator("#passkey-login-noscript")).to_have_text(
        "Signing in with a passkey needs JavaScript. Your password works as always."
    )
    page.click("#passkey-login-submit")
    expect(page.locator("#login-error")).to_contain_text("Passkeys need JavaScript")
    signed_in(page, user["username"], landing="/account/passkeys")
    page.fill("#passkey-name", "Laptop")
    page.click("#passkey-add-submit")
    expect(page.locator("#passkey-failure")).to_contain_text("Passkeys need JavaScript")
    bare = open_page(init="delete window.PublicKeyCredential;")
    bare.goto("/login")
    expect(bare.locator("#passkey-login-status")).to_have_text(
        "This browser cannot use passkeys here. Your password works as always."
    )
    log_in(bare, user["username"])  # the password works as always


def test_a_session_that_ended_meanwhile_is_said_plainly(site, open_page):
    user = site.live.user("pkgone")
    page = signed_in(open_page(), user["username"], landing="/account/passkeys")
    Authenticator(page)
    page.context.clear_cookies()  # signed out elsewhere, or the session expired while the page was open
    page.fill("#passkey-name", "Laptop")
    page.click("#passkey-add-submit")
    expect(page.locator("#passkey-add-status")).to_have_text(
        "This page could not start it (your session may have ended): reload the page.", timeout=15_000
    )
    assert stored(site, user["user_id"]) == []


# --- administrators ----------------------------------------------------------------------------------------------


def test_a_super_user_sees_and_removes_a_users_passkeys(site, open_page):
    user = site.live.user("pkheld")
    page = signed_in(open_page(), user["username"])
    Authenticator(page)
    add_passkey(page, "Lost phone")
    admin = site.live.user("pkadmin", super_user=True)
    admin_page = signed_in(open_page(), admin["username"], landing=f"/users/{user['user_id']}")
    card = admin_page.locator("#user-passkeys-card")
    expect(card).to_contain_text("Lost phone")
    [row] = stored(site, user["user_id"])
    admin_page.click(f"#user-passkey-remove-{row['passkey_id']}")
    expect(flash(admin_page)).to_contain_text("Passkey removed")
    expect(admin_page.locator("#user-passkeys-none")).to_be_visible()
    [removed] = audited(site, user["user_id"], "passkey_remove")
    assert removed["actor_id"] == admin["user_id"]


# --- accessibility -----------------------------------------------------------------------------------------------


def test_the_passkey_pages_pass_axe_in_light_dark_and_at_390_px(site, open_page):
    user = site.live.user("pkaxe", totp_key="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    page = signed_in(open_page(axe=True), user["username"])
    Authenticator(page)
    add_passkey(page, "A passkey with a rather long name, to wrap")
    site.clock.offset = timedelta(minutes=6)  # the page with the password fields too
    page.goto("/account/passkeys")
    serious = axe_check(page, "passkeys", widths=(390,))
    login_page = open_page(axe=True)
    login_page.goto("/login")
    serious += axe_check(login_page, "login", widths=(390,))
    admin = site.live.user("pkaxeadmin", super_user=True)
    admin_page = signed_in(open_page(axe=True), admin["username"], landing=f"/users/{user['user_id']}")
    serious += axe_check(admin_page, "manage user", widths=(390,))
    site.live.update(user["user_id"], {"is_totp_enabled": True})
    code_page = open_page(axe=True)
    log_in(code_page, user["username"], landing=None)
    expect(code_page.locator("#passkey-factor-form")).to_be_visible()
    serious += axe_check(code_page, "code step", widths=(390,))
    assert serious == [], serious
