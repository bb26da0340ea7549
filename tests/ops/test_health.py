"""/healthz and /readyz with the database up, behind on migrations, missing, frozen and down."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from alembic import command

from webapp import create_app
from webapp.db import make_engine
from webapp.ops.health import head_revision
from webapp.schema import alembic_config, upgrade

from ..conftest import app_config as config_for
from ..pgserver import PostgresServer

TIMEOUT = 1


def client_for(url: str):
    app = create_app(config_for(url, SSO_READY_TIMEOUT=TIMEOUT))
    return app, app.test_client()


def timed_get(client, path: str):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_healthz_answers_without_a_database(tmp_path):
    _app, client = client_for(f"sqlite:///{tmp_path}/nowhere/sso.db")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["version"]
    assert response.headers["Cache-Control"] == "no-store"
    assert not (tmp_path / "nowhere").exists()


def test_readyz_is_ready_on_a_migrated_database_and_needs_no_login(sqlite_template, tmp_path):
    url = f"sqlite:///{tmp_path}/sso.db"
    Path(tmp_path / "sso.db").write_bytes(Path(sqlite_template).read_bytes())
    _app, client = client_for(url)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ready", "database": "ok", "migration": head_revision()}


def test_readyz_refuses_a_database_behind_the_code(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0001")
    engine.dispose()
    _app, client = client_for(url)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["migration"].startswith("0001") and head_revision() in response.json["migration"]


def test_readyz_refuses_a_missing_sqlite_file_without_creating_it(tmp_path):
    _app, client = client_for(f"sqlite:///{tmp_path}/gone.db")
    response = client.get("/readyz")
    assert response.status_code == 503 and "not found" in response.json["database"]
    assert not (tmp_path / "gone.db").exists()


@pytest.fixture
def own_postgres():
    """A private cluster this test may freeze and stop (the shared one serves the other tests)."""
    with PostgresServer() as server:
        yield server


def postmaster_pid(server: PostgresServer) -> int:
    assert server.datadir is not None
    return int(Path(server.datadir, "postmaster.pid").read_text().split()[0])


def test_readyz_follows_postgresql_up_frozen_and_down_within_its_timeout(own_postgres):
    url = own_postgres.create_database(f"sso_{uuid.uuid4().hex[:8]}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app, client = client_for(url)

    response, took = timed_get(client, "/readyz")
    assert response.status_code == 200, response.json
    assert took < TIMEOUT

    pid = postmaster_pid(own_postgres)
    os.kill(pid, signal.SIGSTOP)  # frozen: connections are accepted by the kernel, never answered
    try:
        response, took = timed_get(client, "/readyz")
        assert response.status_code == 503 and response.json["status"] == "not ready"
        assert took < TIMEOUT + 1.5, f"/readyz took {took:.1f} s with the database frozen"
        health, took = timed_get(client, "/healthz")
        assert health.status_code == 200 and took < 0.5
    finally:
        os.kill(pid, signal.SIGCONT)

    deadline = time.monotonic() + 10
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "not ready again after the database thawed"
        time.sleep(0.2)

    own_postgres.stop()  # down: connection refused
    response, took = timed_get(client, "/readyz")
    assert response.status_code == 503 and "unreachable" in response.json["database"]
    assert took < TIMEOUT + 1.5
    assert client.get("/healthz").status_code == 200
    app.extensions["sso_engine"].dispose()
