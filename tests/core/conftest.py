"""Fixtures of the service-core tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from webapp import configuration, create_app, create_service

from ..conftest import FAST_WORKER, delivering
from ..conftest import app_config as config_for
from .helpers import ADDR, APP, CID, audit_of, row_of

PUBLIC = "https://sso.example.test"


def _emailing(request: pytest.FixtureRequest, **overrides) -> dict:
    """In a module marked `pytest.mark.emails(SETTING=value, ...)`: the settings of an app that sends its
    emails to the module's `mailbox` with links to PUBLIC, plus the marker's settings and `overrides`."""
    marker = request.node.get_closest_marker("emails")
    if marker is None:
        return overrides
    mailbox = request.getfixturevalue("mailbox")
    return {
        "SSO_SMTP_URL": mailbox.url,
        "SSO_PUBLIC_URL": PUBLIC,
        "SSO_PRODUCT_NAME": "Example Accounts",
        **FAST_WORKER,
        **marker.kwargs,
        **overrides,
    }


@contextmanager
def _delivering_if_emailing(request: pytest.FixtureRequest, ctx) -> Iterator[None]:
    """In a module marked `emails`, an outbox worker delivers `ctx`'s messages while the test runs."""
    if request.node.get_closest_marker("emails") is None or request.node.get_closest_marker("no_delivery"):
        yield
        return
    with delivering(ctx):
        yield


@pytest.fixture
def app(request, db_url):
    """The app on this test's database (emailing, in a module marked `emails`, with a worker delivering)."""
    application = create_app(config_for(db_url, **_emailing(request)))
    with _delivering_if_emailing(request, application.extensions["sso"].ctx):
        yield application
    application.extensions["sso_engine"].dispose()


@pytest.fixture
def sso(request, db_url):
    """The service facade. A test that also takes `app` gets the app's own; the others get the service alone,
    built as the app builds it but without Flask (about 50 ms a test less: most of create_app is routing)."""
    if "app" in request.fixturenames:
        yield request.getfixturevalue("app").extensions["sso"]
        return
    service = create_service(configuration(config_for(db_url, **_emailing(request))))
    with _delivering_if_emailing(request, service.ctx):
        yield service
    service.ctx.engine.dispose()


@pytest.fixture
def other_app(request, db_url):
    """The service on the same database with other settings: `other_app(SETTING=value)` is its facade. Its
    messages go to the outbox the `sso` fixture's worker delivers (one database, one outbox)."""
    if request.node.get_closest_marker("emails") is not None:
        request.getfixturevalue("sso")  # its worker delivers
    made = []

    def make(**overrides):
        made.append(create_service(configuration(config_for(db_url, **_emailing(request, **overrides)))))
        return made[-1]

    yield make
    for service in made:
        service.ctx.engine.dispose()


@pytest.fixture
def make_app(db_url):
    """Another app on the same database, with config overrides (e.g. throttling, Fernet keys)."""
    made = []

    def make(**overrides):
        application = create_app(config_for(db_url, **overrides))
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["sso_engine"].dispose()


@pytest.fixture
def unchanged(sso):
    """Snapshot a user's row and audit trail; calling the result asserts nothing was written since."""

    def snapshot(user_id: str):
        before_row, before_audit = row_of(sso, user_id), len(audit_of(sso))

        def check() -> None:
            assert row_of(sso, user_id) == before_row
            assert len(audit_of(sso)) == before_audit

        return check

    return snapshot


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path):
    """A database of each kind with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"fresh_{uuid.uuid4().hex[:8]}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture
def as_admin(sso, admin):
    """Update a user as the super-user."""
    _, ust = admin

    def update(user_id, data, **kw):
        return sso.user.update_user_by_id(CID, user_id, data, ust, APP, ADDR, **kw)

    return update
