"""Shared fixtures: a real SQLite file and a real PostgreSQL server, the app, users and sessions.

Tests that take `app` (or anything built on it) run once per database: `[sqlite]` and `[postgresql]`.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, insert, text

from webapp import create_app
from webapp.catalogs import compile_catalogs
from webapp.db import make_engine
from webapp.schema import upgrade
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.permissions import SHIPPED_ROLES, join
from webapp.sso.kernel.tables import metadata, profile_schema, roles

from .pgserver import PostgresServer
from .server import TEST_DB_TIMEOUT, TEST_SCRYPT_N

ROOT = Path(__file__).resolve().parent.parent
compile_catalogs()  # a catalog edited since the last bootstrap is what the tests read
TABLES = (
    "sso_audit",
    "sso_session",
    "sso_session_ended",
    "sso_login_failure",
    "sso_email_token",
    "sso_mail_request",
    "sso_totp_recovery_code",
    "sso_passkey",
    "sso_passkey_challenge",
    "sso_user",
    "sso_user_attr",
    "sso_rate_hit",
    "sso_api_client",
    "sso_linked_auth",
    "sso_zato_import",
    "sso_scim_client",
    "sso_outbox",
    "sso_user_role",
    "sso_role",
    "sso_profile_field",
    "sso_profile_value",
    "sso_required_action",
    "sso_terms_acceptance",
    "sso_terms",
    "sso_profile_schema",
    "sso_policy",
    "sso_policy_claim",
)
PASSWORD = "Correct-Horse-9"
FERNET_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def pg_server():
    """One private PostgreSQL cluster on a loopback port for the whole run."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template_url(pg_server):
    """A migrated PostgreSQL database shared by the tests (emptied before each)."""
    name = f"sso_{uuid.uuid4().hex[:8]}"
    pg_server.create_database(name)
    url = pg_server.url(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "sso.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def fresh_database(kind: str, request: pytest.FixtureRequest, tmp_path_factory) -> str:
    """A new migrated database of `kind` ("sqlite" or "postgresql"), e.g. for one live server."""
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("db") / "sso.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_server").create_database(f"sso_{uuid.uuid4().hex[:10]}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


# Children before parents, so the rows go without waiting for the cascades.
_DELETE_ORDER = [table.name for table in reversed(metadata.sorted_tables) if table.name in TABLES]
_DELETE_ORDER += [name for name in TABLES if name not in _DELETE_ORDER]
_emptying: dict[str, tuple[Engine, str]] = {}


def empty_postgres(url: str) -> None:
    """Remove every row from the shared PostgreSQL test database and start its ids at 1 again.

    What `TRUNCATE ... RESTART IDENTITY CASCADE` does, as DELETEs and `setval`: about 3 ms a test instead of
    50 (TRUNCATE makes new files for every table and index). The engine is kept for the run."""
    if url not in _emptying:
        # SQLAlchemy's own pre-ping on every checkout: a test may end every connection to the database
        # (tests/core/test_idle_ping.py), and the app's engine pings only connections idle for a while.
        engine = create_engine(url, pool_pre_ping=True, pool_size=1)
        with engine.connect() as conn:
            sequences = conn.execute(
                text(
                    "SELECT s.oid::regclass::text FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                    "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"
                ),
                {"tables": list(TABLES)},
            ).scalars()
            restart = "SELECT " + (", ".join(f"setval('{name}', 1, false)" for name in sequences) or "1")
        _emptying[url] = (engine, restart)
    engine, restart = _emptying[url]
    with engine.begin() as conn:
        for table in _DELETE_ORDER:
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text(restart))
        reseed_roles(conn)
        # The schema version as the migration creates it, at a version no earlier test's process has kept.
        conn.execute(insert(profile_schema).values(id=1, version=time.time_ns()))


def reseed_roles(conn) -> None:
    """The shipped roles as the migration creates them (a test may have edited or removed them)."""
    conn.execute(
        insert(roles),
        [
            {"name": name, "description": description, "permissions": join(permissions), "creation_time": utcnow()}
            for name, (description, permissions) in SHIPPED_ROLES.items()
        ],
    )


def database_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of `kind` for one test: a copy of the SQLite template, or the shared PostgreSQL
    database emptied."""
    if kind == "sqlite":
        path = tmp_path / "sso.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_template_url")
    empty_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, migrated database of each kind."""
    return database_for(request.param, request, tmp_path)


def app_config(db_url: str, **overrides) -> dict:
    """The app config tests use: explicit secrets, the given database."""
    return {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key",
        "SSO_FERNET_KEYS": [FERNET_KEY],
        "SSO_APPS": ["CRM", "Console"],
        "SSO_SCRYPT_N": TEST_SCRYPT_N,
        # a loaded test machine must not trip the database deadline (tests/api/test_database_faults.py
        # sets its own)
        "SSO_DB_TIMEOUT": TEST_DB_TIMEOUT,
        "SSO_DB_CONNECT_DEADLINE": TEST_DB_TIMEOUT,
        **overrides,
    }


@pytest.fixture
def app(db_url):
    application = create_app(app_config(db_url))
    yield application
    application.extensions["sso_engine"].dispose()


@pytest.fixture
def sso(app):
    """The service facade, as the seed calls it: `sso.user.update_current_user(...)`."""
    return app.extensions["sso"]


@pytest.fixture
def make_user(sso):
    """Create an approved user (with PASSWORD) from the command-line path; extra attributes via an update."""

    def make(username: str, *, super_user: bool = False, password: str | None = PASSWORD) -> dict:
        return sso.operator.create_local(username, password, super_user=super_user)

    return make


@pytest.fixture
def login(sso):
    """Log a user in; returns the UST."""

    def do(username: str, password: str = PASSWORD, app_name: str = "CRM") -> str:
        return sso.user.login("test-cid", username, password, app_name, "127.0.0.1").ust

    return do


@pytest.fixture
def admin(make_user, login):
    """A super-user and its UST: (user, ust)."""
    user = make_user("admin", super_user=True)
    return user, login("admin")


@pytest.fixture
def alice(make_user, login):
    """A regular user and her UST: (user, ust)."""
    user = make_user("alice")
    return user, login("alice")


# The outbox worker's settings in tests: it looks for new messages every 20 ms and backs off from 50 ms.
FAST_WORKER = {"SSO_OUTBOX_POLL_MS": 20, "SSO_OUTBOX_BACKOFF_MS": 50, "SSO_OUTBOX_BACKOFF_MAX_MS": 400}
FAST_WORKER_ENV = {name: str(value) for name, value in FAST_WORKER.items()}


@contextmanager
def delivering(ctx) -> Iterator[Any]:
    """The outbox worker, in a thread of this process, delivering `ctx`'s messages while the block runs (what
    `flask --app webapp sso worker` does in its own process; tests/core/test_outbox.py runs that one too)."""
    from webapp.sso.email.worker import Worker

    stop = threading.Event()
    worker = Worker(ctx, ctx.mailer, stop=stop)
    thread = threading.Thread(target=worker.run, name="outbox-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(30)


@pytest.fixture(scope="module")
def mailbox():
    """A real SMTP server on loopback (aiosmtpd) that a whole module shares; tests tell their messages
    apart by recipient (each test uses its own addresses)."""
    from .mailbox import Mailbox

    with Mailbox() as box:
        yield box
