"""Real-browser tests: Debian's Chromium driven by Playwright against gunicorn on SQLite and PostgreSQL.

One browser per test session (per xdist worker), one live server per database kind (session scope,
so pytest groups the tests by database), browser contexts kept between tests and emptied (ContextPool).
Every test makes its own users with unique names, so tests never depend on each other's data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from webapp import create_app

from ..conftest import FERNET_KEY, app_config, fresh_database
from ..server import LiveServer, server_env
from .ui import CHROMIUM, CHROMIUM_ARGS, ContextPool, Live, Pages


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run (Debian's; Playwright never downloads one here)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _live(kind: str, request, tmp_path_factory) -> Iterator[Live]:
    db_url = fresh_database(kind, request, tmp_path_factory)
    # Every browser logs in from 127.0.0.1, so the per-address login throttle (5 failures in 5 minutes)
    # would block later tests after a few deliberate failures: the server keeps it on with a larger
    # limit. The seeding app records no failures of its own.
    app = create_app(app_config(db_url, SSO_LOGIN_MAX_FAILURES=0))
    try:
        with LiveServer(server_env(db_url, FERNET_KEY, SSO_LOGIN_MAX_FAILURES="100")) as server:
            yield Live(kind, server.url, db_url, app)
    finally:
        app.extensions["sso_engine"].dispose()


@pytest.fixture(scope="session", params=["sqlite"])
def live(request, tmp_path_factory) -> Iterator[Live]:
    """gunicorn on SQLite: the browser proves the pages; every rule is tested on both databases below them.

    A case that is about the database widens it with
    `@pytest.mark.parametrize("live", ["sqlite", "postgresql"], indirect=True)`.
    """
    yield from _live(request.param, request, tmp_path_factory)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request) -> bool:
    """With JavaScript (htmx, console.js) and without it (plain POST/redirect/GET)."""
    return request.param


@pytest.fixture(scope="session")
def contexts(browser) -> Iterator[ContextPool]:
    """The browser contexts kept between tests (see ContextPool)."""
    pool = ContextPool(browser)
    yield pool
    pool.close()


@pytest.fixture
def pages(contexts, live) -> Iterator[Pages]:
    """Browser contexts on the live server of this test's database."""
    made = Pages(contexts, live.url)
    yield made
    made.close()
