"""Chromium, with JavaScript on and off: a super-user switches the lock policy on from the Policies page, sees its
dry run (the count and the very users) first, confirms, and runs the policies; the users named are locked. The
pages pass axe and fit a phone. A server of its own: the policies are stored for the whole database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from webapp import create_app
from webapp.db import writing
from webapp.sso import Call
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.tables import users

from ..conftest import FERNET_KEY, fresh_database
from ..conftest import app_config as config_for
from ..server import LiveServer, server_env
from .ui import SEED_APP, Live, axe_check, flash, signed_in


@pytest.fixture(scope="module")
def live(request, tmp_path_factory) -> Iterator[Live]:
    db_url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(config_for(db_url, SSO_LOGIN_MAX_FAILURES=0))
    try:
        with LiveServer(server_env(db_url, FERNET_KEY, SSO_LOGIN_MAX_FAILURES="100")) as server:
            yield Live("sqlite", server.url, db_url, app)
    finally:
        app.extensions["sso_engine"].dispose()


def idle_since(live: Live, days: int) -> dict:
    """A user who signed up `days` ago and never signed in (their sign-up time set back in the database)."""
    user = live.user("idle")
    with writing(live.sso.ctx.engine) as conn:
        conn.execute(
            update(users).where(users.c.user_id == user["user_id"]).values(sign_up_time=utcnow() - timedelta(days=days))
        )
    return user


def test_switch_the_lock_policy_on_after_its_dry_run_then_run_it(pages, live, js):
    seed = live.sso.serve(Call(cid="browser-seed", ust=live._ust, current_app=SEED_APP))
    seed.set_policy("lock_inactive", enabled=False, days=90)  # off again after the other run of this test
    idle = [idle_since(live, 40), idle_since(live, 45)]
    admin = live.user("policy-admin", super_user=True)
    page = signed_in(pages.new(js=js, axe=js), admin["username"], landing="/policies")
    if js:  # axe runs as a script
        assert axe_check(page, "policies", widths=(375,)) == []
    page.check("#policy-lock_inactive-enabled")
    page.fill("#policy-lock_inactive-days", "30")
    page.click("#policy-lock_inactive-save")
    expect(page.locator("#dry-run-lock_inactive-act")).to_have_text("2 users would be acted on now.")
    for user in idle:
        expect(page.locator("#dry-run-lock_inactive-act-users")).to_contain_text(user["username"])
    if js:
        assert axe_check(page, "policy dry run", widths=(375,)) == []
    assert not live.get(idle[0]["user_id"])["is_locked"]  # a dry run writes nothing

    page.click("#policy-confirm-submit")
    page.wait_for_url("**/policies")
    expect(flash(page)).to_contain_text("Lock accounts without a sign-in: saved.")
    expect(page.locator("#policy-lock_inactive-preview")).to_have_text("A run now would act on 2 and warn 0.")
    page.click("#policies-run-button")
    expect(page.locator("#policies-summary")).to_contain_text("2 done")
    for user in idle:
        expect(page.locator("#policies-outcomes")).to_contain_text(f"{user['username']}: locked")
        assert live.get(user["user_id"])["is_locked"]
