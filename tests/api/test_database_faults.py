"""A database that cannot answer (issue 12 #9, #10), over real HTTP on gunicorn with two workers: a
PostgreSQL server stopped, then frozen (SIGSTOP: sockets open, no answers), and a locked SQLite file.
Every request must be answered within a second (503 with Retry-After when it needs the database), the
service must recover by itself, and no acknowledged write may be lost.

The slow cases of the suite: one module, one private PostgreSQL cluster, run once. The figures are
printed and written to test-results/database-faults.txt."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from webapp.db import make_engine, reading
from webapp.schema import upgrade
from webapp.sso.kernel.tables import users

from ..conftest import FERNET_KEY, PASSWORD, fresh_database
from ..conftest import app_config as config_for
from ..pgserver import PostgresServer
from ..server import ROOT, LiveServer, console_session, server_env

APP = "CRM"
ANSWER_WITHIN = 1.0  # seconds, for every request while the database is out
FAULT_ENV = {
    # the deadline 400 ms inside ANSWER_WITHIN: on a loaded 2-core machine handling the timeout and
    # answering 503 took up to 270 ms (a deadline of 800 ms once answered in 1.07 s)
    "SSO_DB_TIMEOUT": "600",
    "SSO_DB_POOL_TIMEOUT": "1",
    "SSO_SQLITE_BUSY_TIMEOUT": "300",
    "SSO_DB_RETRY_AFTER": "2",
    "SSO_LOGIN_MAX_FAILURES": "0",
}
FIGURES = ROOT / "test-results" / "database-faults.txt"


@dataclass
class Load:
    """Two clients (one per worker) making writes, reads and page loads, and what they were answered."""

    base: str
    admin_ust: str
    console: requests.Session
    answers: list[tuple[str, str, int, float, str | None]] = field(default_factory=list)  # phase, what, ...
    acknowledged: list[str] = field(default_factory=list)
    phase: str = "before"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def one(self, what: str, send) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = send()
        except requests.RequestException:
            status, retry, response = 0, None, None
        else:
            status, retry = response.status_code, response.headers.get("Retry-After")
        with self.lock:
            self.answers.append((self.phase, what, status, time.monotonic() - started, retry))
        return response

    def round(self, http: requests.Session) -> None:
        username = f"w_{uuid.uuid4().hex[:12]}"
        body = {"ust": self.admin_ust, "current_app": APP, "username": username, "password": PASSWORD}
        created = self.one("write", lambda: http.post(f"{self.base}/zato/sso/user", data=json.dumps(body), timeout=10))
        if created is not None and created.status_code == 200:
            with self.lock:
                self.acknowledged.append(username)
        self.one(
            "read",
            lambda: http.get(
                f"{self.base}/zato/sso/user", timeout=10, data=json.dumps({"ust": self.admin_ust, "current_app": APP})
            ),
        )
        self.one("login page", lambda: http.get(f"{self.base}/login", timeout=10))
        self.one("console page", lambda: self.console.get(f"{self.base}/account", timeout=10, allow_redirects=False))

    def run(self, phase: str, seconds: float) -> None:
        self.phase = phase
        deadline = time.monotonic() + seconds

        def client():
            http = requests.Session()
            while time.monotonic() < deadline:
                self.round(http)
                time.sleep(0.02)  # a steady load, not a flood: a stopped database answers 503s in ~1 ms

        threads = [threading.Thread(target=client) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def of(self, phase: str) -> list[tuple[str, str, int, float, str | None]]:
        return [answer for answer in self.answers if answer[0] == phase]

    def recover(self, phase: str, within: float) -> float:
        """Seconds until a write succeeds again (no restart of anything but the database)."""
        self.phase = phase
        started = time.monotonic()
        http = requests.Session()
        while time.monotonic() - started < within:
            self.round(http)
            if self.of(phase)[-4][2] == 200:
                return time.monotonic() - started
            time.sleep(0.1)
        pytest.fail(f"no recovery within {within} s: {Counter(a[2] for a in self.of(phase))}")


def start(url: str, tmp: Path, **env: str):
    app_config = config_for(url)
    from webapp import create_app

    app = create_app(app_config)
    sso = app.extensions["sso"]
    admin = sso.operator.create_local(f"admin_{uuid.uuid4().hex[:6]}", PASSWORD, super_user=True)
    ust = sso.user.login("t", admin["username"], PASSWORD, APP, "127.0.0.1").ust
    app.extensions["sso_engine"].dispose()
    server = LiveServer(server_env(url, FERNET_KEY, **{**FAULT_ENV, **env})).start()
    load = Load(base=server.url, admin_ust=ust, console=console_session(server.url, admin["username"], PASSWORD))
    return server, load


def assert_out_but_answering(load: Load, phase: str, mostly_503: bool = True) -> dict:
    answers = load.of(phase)
    assert answers, phase
    slowest = max(seconds for _, _, _, seconds, _ in answers)
    by_status = Counter((what, status) for _, what, status, _, _ in answers)
    for _, what, status, seconds, retry in answers:
        assert seconds < ANSWER_WITHIN, (phase, what, status, seconds)
        if what == "login page":
            assert status == 200, (phase, what, status)
        else:
            assert status in (200, 503), (phase, what, status)  # 200: the odd request just before the fault
            if status == 503:
                assert retry == "2"
    if mostly_503:
        assert sum(1 for _, what, status, _, _ in answers if status == 503) >= len(answers) // 2, by_status
    return {
        "requests": len(answers),
        "503": sum(1 for a in answers if a[2] == 503),
        "200": sum(1 for a in answers if a[2] == 200),
        "slowest_s": round(slowest, 3),
        "by_kind": {f"{what} {status}": count for (what, status), count in sorted(by_status.items())},
    }


def assert_no_write_lost(load: Load, url: str) -> int:
    engine = make_engine(url)
    try:
        with reading(engine) as conn:
            stored = set(
                conn.execute(select(users.c.username).where(users.c.username.in_(load.acknowledged))).scalars()
            )
    finally:
        engine.dispose()
    lost = [name for name in load.acknowledged if name not in stored]
    assert not lost, f"{len(lost)} acknowledged writes lost"
    return len(lost)


def record(name: str, figures: dict) -> None:
    FIGURES.parent.mkdir(exist_ok=True)
    with FIGURES.open("a") as out:
        out.write(f"{name}: {json.dumps(figures)}\n")
    print(name, figures)


def test_postgresql_stopped_then_frozen_answers_503_quickly_and_recovers(tmp_path):
    with PostgresServer() as pg:
        url = pg.create_database("faults")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        server, load = start(url, tmp_path)
        try:
            load.run("warm-up", 1.0)  # both workers open their connections
            load.run("before", 0.5)
            assert {a[2] for a in load.of("before")} == {200}, load.of("before")
            pg.halt()
            load.run("stopped", 2.5)
            stopped = assert_out_but_answering(load, "stopped")
            pg.resume()
            stopped["recovered_after_s"] = round(load.recover("after stop", 15), 2)
            load.run("between", 0.5)
            assert {a[2] for a in load.of("between")} == {200}
            pids = pg.freeze()
            try:
                load.run("frozen", 3.0)
            finally:
                pg.thaw(pids)
            frozen = assert_out_but_answering(load, "frozen")
            frozen["recovered_after_s"] = round(load.recover("after freeze", 15), 2)
            load.run("after", 0.5)
            assert {a[2] for a in load.of("after")} == {200}
            lost = assert_no_write_lost(load, url)
            record("postgresql stopped", stopped)
            record("postgresql frozen", frozen)
            record(
                "postgresql writes",
                {"acknowledged": len(load.acknowledged), "lost": lost, "requests_total": len(load.answers)},
            )
        finally:
            server.stop()
        log = server.log.read_text()
        assert '" 500 ' not in log, "a 500 in the access log"


def test_a_locked_sqlite_database_answers_503_for_writes_and_recovers(request, tmp_path_factory, tmp_path):
    url = fresh_database("sqlite", request, tmp_path_factory)
    server, load = start(url, tmp_path)
    try:
        load.run("before", 0.5)
        assert {a[2] for a in load.of("before")} == {200}
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=5)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            load.run("locked", 2.5)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        locked = assert_out_but_answering(load, "locked", mostly_503=False)  # WAL: reads go on
        writes = [a for a in load.of("locked") if a[1] == "write"]
        assert writes and all(a[2] == 503 for a in writes[2:]), writes  # a write cannot get past the lock
        locked["recovered_after_s"] = round(load.recover("after lock", 10), 2)
        load.run("after", 0.5)
        assert {a[2] for a in load.of("after")} == {200}
        locked["acknowledged_writes"] = len(load.acknowledged)
        locked["lost_writes"] = assert_no_write_lost(load, url)
        record("sqlite locked", locked)
    finally:
        server.stop()
    assert '" 500 ' not in server.log.read_text(), "a 500 in the access log"


def test_a_long_freeze_holds_no_request_in_connect(tmp_path):
    """Issue 31 #13: frozen by SIGSTOP for 12 s under load, requests waited 5.1 s: once a deadline has
    dropped the pool, every request needs a new connection, and connecting to a frozen server hangs (libpq's
    connect_timeout is at least 2 s, for each address tried). Getting a connection has its own bound,
    SSO_DB_CONNECT_DEADLINE, below the transaction's SSO_DB_TIMEOUT: set apart here (3 s and 0.5 s), only
    the statement each worker had in flight when the server froze may wait out the 3 s; every other request
    answers within ANSWER_WITHIN."""
    with PostgresServer() as pg:
        url = pg.create_database("frozen")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        server, load = start(url, tmp_path, SSO_DB_TIMEOUT="3000", SSO_DB_CONNECT_DEADLINE="500")
        try:
            load.run("warm-up", 1.0)  # both workers hold pooled connections
            pids = pg.freeze()
            try:
                load.run("frozen long", 8.0)
            finally:
                pg.thaw(pids)
            answers = load.of("frozen long")
            slow = [answer for answer in answers if answer[3] >= ANSWER_WITHIN]
            assert len(slow) <= server.workers and all(answer[3] < 3.5 for answer in slow), slow
            assert all(answer[2] in (200, 503) for answer in answers), Counter(answer[2] for answer in answers)
            fast = [answer for answer in answers if answer[3] < ANSWER_WITHIN and answer[1] != "login page"]
            assert sum(1 for answer in fast if answer[2] == 503) >= 10, Counter(a[2] for a in answers)
            recovered = round(load.recover("after long freeze", 15), 2)
            record(
                "postgresql frozen 8 s (deadline 3 s, connect 0.5 s)",
                {
                    "requests": len(answers),
                    "over_1s": len(slow),
                    "slowest_s": round(max(answer[3] for answer in answers), 3),
                    "slowest_after_the_first_s": round(max(answer[3] for answer in fast), 3),
                    "recovered_after_s": recovered,
                },
            )
        finally:
            server.stop()
        assert '" 500 ' not in server.log.read_text(), "a 500 in the access log"
