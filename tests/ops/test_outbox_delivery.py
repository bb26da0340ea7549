"""The outbox with the real processes (issue 27): gunicorn and `flask --app webapp sso worker` killed with SIGKILL,
an SMTP server that goes away and comes back, and a slow one; then every message is counted by its Message-ID."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from webapp import create_app
from webapp.db import DatabaseUnavailable, reading, writing
from webapp.sso.email.mail import Message
from webapp.sso.email.outbox import enqueue
from webapp.sso.kernel.tables import audit, email_tokens, outbox

from ..conftest import FAST_WORKER_ENV, FERNET_KEY, PASSWORD, fresh_database
from ..conftest import app_config as config_for
from ..mailbox import Mailbox
from ..server import LiveServer, OutboxWorker, server_env

APP = "CRM"
# The SMTP outage: SPEC §19's "a minute", shortened (the worker's backoff tops out at 0.4 s in tests, so it tries
# about ten times meanwhile; the behaviour is the real one, only the clock is shorter).
OUTAGE = 4.0


@pytest.fixture
def database(request, tmp_path_factory):
    """A fresh database of the test's kind and the service on it."""
    url = fresh_database(request.param, request, tmp_path_factory)
    app = create_app(config_for(url))
    yield url, app.extensions["sso"]
    app.extensions["sso_engine"].dispose()


def env_for(url: str, box: Mailbox, **extra: str) -> dict[str, str]:
    settings = {
        "SSO_SMTP_URL": box.url,
        # Generous for a loaded machine: a send that times out after the server took the message is sent again
        # (at least once), which would be a second duplicate beside the one in flight at the kill.
        "SSO_SMTP_TIMEOUT": "5",
        "SSO_OUTBOX_LEASE": "7",  # a killed worker's claims come free after 7 s
        "SSO_PASSWORD_RESET_MAX_REQUESTS": "0",
        "SSO_PASSWORD_RESET_MAX_PER_ADDRESS": "0",
        **FAST_WORKER_ENV,
        **extra,
    }
    return server_env(url, FERNET_KEY, **settings)


def log_path(name: str) -> Path:
    return Path(__file__).resolve().parent.parent.parent / "test-results" / f"{name}-{uuid.uuid4().hex[:6]}.log"


def queue_many(sso, count: int, prefix: str) -> list[str]:
    ids = []
    with writing(sso.ctx.engine) as conn:
        for n in range(count):
            message = Message(f"{prefix}-{n}@example.com", f"Message {n}", f"text {n}", f"<p>{n}</p>", "test")
            ids.append(enqueue(sso.ctx, conn, message))
    return ids


def received_ids(box: Mailbox, wanted: set[str]) -> list[str]:
    with box.lock:
        return [m["Message-ID"] for m in box.messages if m["Message-ID"] in wanted]


def wait_for(condition, timeout: float, what: str) -> None:
    """Poll `condition` until it holds. The test's own reads are an observer's: one the database answers with an
    error (SQLite right after a process holding it was killed) is tried again, and the last error is said."""
    deadline, last_error = time.monotonic() + timeout, None
    while True:
        try:
            if condition():
                return
        except (DatabaseUnavailable, OperationalError) as error:
            last_error = error
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s (last read error: {last_error})"
        time.sleep(0.02)


def statuses(sso) -> Counter:
    with reading(sso.ctx.engine) as conn:
        return Counter(conn.execute(select(outbox.c.status)).scalars())


def kill_minus_nine(pid: int) -> None:
    """SIGKILL a process and its children (gunicorn's workers), children first: no clean-up anywhere."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    for child in children:
        os.kill(child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_an_app_killed_mid_request_leaves_every_change_with_its_message_and_the_worker_sends_each_once(database):
    url, sso = database
    people = [
        sso.operator.create_local(f"k{n}-{uuid.uuid4().hex[:4]}", PASSWORD, super_user=False, email=f"k{n}@example.com")
        for n in range(4)
    ]
    with Mailbox() as box:
        server = LiveServer(env_for(url, box), access_log=False).start()
        stop, answered = threading.Event(), Counter[int | str]()

        def hammer(username: str) -> None:
            http = requests.Session()
            http.trust_env = False
            while not stop.is_set():
                try:
                    reply = http.post(
                        f"{server.url}/zato/sso/password/reset",
                        json={"current_app": APP, "credential": username},
                        timeout=10,
                    )
                    answered[reply.status_code] += 1
                except requests.RequestException:
                    answered["broken"] += 1
                    return

        threads = [threading.Thread(target=hammer, args=(p["username"],)) for p in people]
        for thread in threads:
            thread.start()
        wait_for(lambda: answered[200] >= 40, 60, "40 answered requests")
        assert server.process is not None
        kill_minus_nine(server.process.pid)
        stop.set()
        for thread in threads:
            thread.join(15)
        server.process.wait(10)
        assert set(answered) <= {200, "broken"}, answered

        with reading(sso.ctx.engine) as conn:
            tokens = conn.execute(select(func.count()).select_from(email_tokens)).scalar_one()
            audited = conn.execute(
                select(func.count()).select_from(audit).where(audit.c.action == "reset_requested")
            ).scalar_one()
            ids = set(conn.execute(select(outbox.c.message_id)).scalars())
        assert tokens == audited == len(ids) >= answered[200], "each committed request has its message, no other"

        with OutboxWorker(env_for(url, box), log_path("outbox-worker")):
            wait_for(lambda: statuses(sso) == Counter(sent=len(ids)), 90, "every message sent")
        arrived = Counter(received_ids(box, ids))
        assert set(arrived) == ids and set(arrived.values()) == {1}, "none lost, none twice"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_at_most_the_message_in_flight_twice(database):
    url, sso = database
    ids = queue_many(sso, 60, "batch")
    wanted = set(ids)
    with Mailbox(delay=0.05) as box:  # each message takes a while: the kill lands inside a conversation
        first = OutboxWorker(env_for(url, box), log_path("outbox-worker-killed")).start()
        wait_for(lambda: len(received_ids(box, wanted)) >= 15, 60, "15 messages received")
        first.kill()
        before = Counter(statuses(sso))
        assert 0 < before["sent"] < 60, before
        with OutboxWorker(env_for(url, box), log_path("outbox-worker-second")):
            wait_for(lambda: statuses(sso) == Counter(sent=60), 90, "every message sent")
        arrived = Counter(received_ids(box, wanted))
    assert set(arrived) == wanted, "none lost"
    twice = [message_id for message_id, count in arrived.items() if count > 1]
    assert len(twice) <= 1 and all(arrived[m] == 2 for m in twice), arrived.most_common(3)
    if twice:  # the one in flight: the same Message-ID both times, so the recipient's mail system can tell
        assert ids.index(twice[0]) == before["sent"], "the message after the last one marked sent"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_smtp_down_for_a_while_then_back_delivers_everything_in_order_of_creation(database):
    url, sso = database
    box = Mailbox().start()  # stopped by hand below, mid-test
    worker = OutboxWorker(env_for(url, box), log_path("outbox-worker-outage")).start()
    try:
        early = queue_many(sso, 3, "early")
        wait_for(lambda: len(received_ids(box, set(early))) == 3, 30, "the first messages")
        box.stop()  # the SMTP server goes away
        during: list[str] = []
        started = time.monotonic()
        while time.monotonic() - started < OUTAGE:
            during += queue_many(sso, 1, f"during-{len(during)}")
            time.sleep(OUTAGE / 20)
        with reading(sso.ctx.engine) as conn:
            tried = conn.execute(select(outbox.c.attempts).where(outbox.c.message_id == during[0])).scalar_one()
        assert tried >= 2, "the worker kept trying during the outage"
        assert statuses(sso)["queued"] == len(during), "nothing was given up"
        with Mailbox(port=box.port) as back:  # the same address, back again
            wait_for(lambda: len(received_ids(back, set(during))) == len(during), 30, "the queue after the outage")
            assert received_ids(back, set(during)) == during, "in order of creation, each once"
    finally:
        worker.stop()
    assert "unreachable" in worker.log.read_text()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_request_that_sends_email_takes_no_longer_with_a_slow_smtp_server_than_one_that_sends_none(database):
    url, sso = database
    person = sso.operator.create_local(
        f"slow-{uuid.uuid4().hex[:4]}", PASSWORD, super_user=False, email="slow@example.com"
    )
    with (
        Mailbox(delay=2.0) as box,
        LiveServer(env_for(url, box, SSO_SMTP_TIMEOUT="5", SSO_OUTBOX_LEASE="60"), worker=True) as server,
    ):
        http = requests.Session()
        http.trust_env = False

        def timed(credential: str) -> float:
            started = time.perf_counter()
            reply = http.post(
                f"{server.url}/zato/sso/password/reset", json={"current_app": APP, "credential": credential}, timeout=30
            )
            assert reply.status_code == 200
            return time.perf_counter() - started

        for _ in range(3):  # warm-up
            timed("nobody")
        with_email, without = [], []
        for _ in range(12):
            with_email.append(timed(person["username"]))
            without.append(timed("nobody-" + uuid.uuid4().hex[:6]))
        assert box.for_("slow@example.com", timeout=20), "the messages do go out, at the server's pace"
    assert max(with_email) < 1.0, with_email
    assert statistics.median(with_email) < statistics.median(without) + 0.03, (with_email, without)
