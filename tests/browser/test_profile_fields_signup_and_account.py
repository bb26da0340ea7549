"""Profile fields (SPEC §16) in Chromium, JavaScript on and off: sign-up asks for a required field and names it
with the other mistakes; My account shows a field the person may view but not edit, read-only; axe on the
sign-up page with its profile fields. One gunicorn on SQLite with console sign-up open."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from webapp import create_app
from webapp.sso import Call

from ..conftest import FERNET_KEY, fresh_database
from ..conftest import app_config as config_for
from ..server import LiveServer, server_env
from .ui import PASSWORD, Live, axe_check, flash, signed_in


@pytest.fixture(scope="module")
def live(request, tmp_path_factory) -> Iterator[Live]:
    db_url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(config_for(db_url, SSO_LOGIN_MAX_FAILURES=0))
    env = server_env(
        db_url, FERNET_KEY, SSO_LOGIN_MAX_FAILURES="100", SSO_SIGNUP_APPS="Console", SSO_SIGNUP_APPROVAL_NEEDED="0"
    )
    try:
        with LiveServer(env) as server:
            live = Live("sqlite", server.url, db_url, app)
            admin = live.sso.serve(Call("t", live._ust, "CRM", "127.0.0.1"))
            admin.define_profile_field(
                {
                    "name": "badge",
                    "label": "Badge",
                    "type": "text",
                    "required": True,
                    "regex": "B[0-9]+",
                    "regex_message": "must be B and digits",
                }
            )
            admin.define_profile_field({"name": "employee_no", "label": "Employee number", "type": "text", "edit": []})
            yield live
    finally:
        app.extensions["sso_engine"].dispose()


def by_username(live: Live, username: str) -> dict:
    result = live.sso.user.search("t", {"username": username}, live._ust, "CRM", "127.0.0.1")["result"]
    return result[0] if result else {}


def test_sign_up_asks_for_the_required_field_and_names_it_with_the_other_mistakes(pages, live, js):
    page = pages.new(js=js)
    name = f"joiner-{uuid.uuid4().hex[:6]}"
    page.goto("/signup")
    expect(page.locator("#field-badge")).to_contain_text("Required.")
    page.fill("#signup-username", name)
    page.fill("#signup-email", f"{name}@example.com")
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-password-confirm", PASSWORD + "x")
    if js:  # checked as it is typed, by the same rule
        page.fill("#f-badge", "X1")
        expect(page.locator("#f-badge-error")).to_contain_text("must be B and digits")
        page.fill("#f-badge", "")
    page.evaluate("document.getElementById('signup-form').noValidate = true")
    page.click("#signup-submit")
    summary = page.locator("#field-errors")
    expect(summary).to_contain_text("Badge")
    expect(summary).to_contain_text("is required")
    expect(summary).to_contain_text("Password again")
    expect(page.locator("#f-badge-error")).to_contain_text("is required")
    assert by_username(live, name) == {}

    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-password-confirm", PASSWORD)
    page.fill("#f-badge", "B12")
    page.click("#signup-submit")
    expect(page.locator("h1")).to_have_text("Check your email")
    assert by_username(live, name)["badge"] == "B12"


def test_my_account_shows_a_field_i_may_only_view_read_only(pages, live, js):
    user = live.user("viewer", employee_no="E-77", badge="B1")
    page = signed_in(pages.new(js=js), user["username"])
    field = page.locator("#field-employee_no")
    expect(field).to_contain_text("E-77")
    expect(field).to_contain_text("(view only)")
    expect(page.locator("#account-form [name=employee_no]")).to_have_count(0)
    page.fill("#f-badge", "B2")
    page.click("#save")
    expect(flash(page)).to_contain_text("Saved: Badge.")
    expect(page.locator("#field-employee_no")).to_contain_text("E-77")
    after = live.get(user["user_id"])
    assert after["badge"] == "B2" and after["employee_no"] == "E-77"


def test_the_sign_up_page_with_profile_fields_passes_axe(pages, live):
    page = pages.new(js=True, axe=True)
    page.goto("/signup")
    assert axe_check(page, "sign-up with a required profile field", widths=(390,)) == []
    page.evaluate("document.getElementById('signup-form').noValidate = true")
    page.click("#signup-submit")
    expect(page.locator("#field-errors")).to_be_visible()
    assert axe_check(page, "sign-up refused", widths=(390,)) == []
