"""Issue 11, fix 8: after too many failed logins the login page says sign-in is paused and for how long,
the same for an account that exists and one that does not. Its own server: a low failure limit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp import create_app

from .. import conftest
from ..conftest import FERNET_KEY, PASSWORD, fresh_database
from ..server import LiveServer, server_env
from .ui import Pages, log_in, unique


@pytest.fixture(scope="module")
def paused_server(request, tmp_path_factory):
    db_url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(conftest.app_config(db_url, SSO_LOGIN_MAX_FAILURES=0))
    name = unique("paused")
    app.extensions["sso"].operator.create_local(name, PASSWORD, super_user=False)
    try:
        with LiveServer(
            server_env(db_url, FERNET_KEY, SSO_LOGIN_MAX_FAILURES="3", SSO_LOGIN_FAILURE_WINDOW="600")
        ) as server:
            yield server.url, name
    finally:
        app.extensions["sso_engine"].dispose()


def test_sign_in_paused_says_for_how_long_without_telling_who_exists(contexts, paused_server):
    url, name = paused_server
    pages = Pages(contexts, url)
    try:
        page = pages.new()
        log_in(page, "nobody-at-all", "wrong-password-1", landing=None)
        expect(page.locator("#login-error")).to_contain_text("Wrong username or password")
        for _ in range(4):  # the limit is 3: by now sign-in is paused
            log_in(page, "nobody-at-all", "wrong-password-1", landing=None)
        unknown = page.locator("#login-error").inner_text()
        assert re.search(r"[Ss]ign-in (is )?paused", unknown), unknown
        assert re.search(r"(9|10) minutes", unknown), unknown
        # The real account reads exactly the same once it is paused too (nothing tells who exists).
        for _ in range(4):
            log_in(page, name, "wrong-password-1", landing=None)
        assert page.locator("#login-error").inner_text() == unknown
        expect(page).to_have_url(re.compile(r"/login"))
    finally:
        pages.close()
