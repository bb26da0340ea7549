"""The password-reset request's time over real HTTP, and the outbox worker's throughput (issue 27).

    .venv/bin/python bench/outbox.py [--requests 200] [--messages 1000] [--db sqlite,postgresql] [--sink-delay 0]

For each database: a fresh migrated database, a user with an email address, gunicorn (2 sync workers)
mailing to a real SMTP server on loopback (tests/mailbox.py, aiosmtpd); then `--requests` sequential
`POST /zato/sso/password/reset` for that user (throttling off), timed by the client: median, p90, max.
With `--sink-delay S` the SMTP server waits S seconds before taking each message (a slow server). With
`--no-worker` no outbox worker runs meanwhile (the request path alone; the messages wait); `--before` runs
the code before the outbox (from a copy of that tree: it has no worker).

Then the worker: `--messages` messages written to the outbox, one `flask --app webapp sso worker` started,
and the time from the first message the SMTP server received to the last: messages per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from tests.mailbox import Mailbox  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402
from tests.server import LiveServer, server_env  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.db import make_engine  # noqa: E402
from webapp.schema import upgrade  # noqa: E402

PASSWORD = "Correct-Horse-9"


def fresh(kind: str, tmp: Path, pg: PostgresServer | None) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.db'}"
    else:
        assert pg is not None
        url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def reset_times(kind: str, url: str, key: str, box: Mailbox, count: int, worker: bool) -> list[float]:
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "SSO_FERNET_KEYS": [key], "SSO_APPS": ["CRM"], "TESTING": True}
    )
    user = app.extensions["sso"].operator.create_local(
        f"bench.{uuid.uuid4().hex[:6]}", PASSWORD, super_user=False, email="b@example.com"
    )
    app.extensions["sso_engine"].dispose()
    env = server_env(
        url,
        key,
        SSO_SMTP_URL=box.url,
        SSO_PASSWORD_RESET_MAX_REQUESTS="0",
        SSO_PASSWORD_RESET_MAX_PER_ADDRESS="0",
        SSO_APPS="CRM",
    )
    with LiveServer(env, access_log=False, **({"worker": True} if worker else {})) as server:
        http = requests.Session()
        http.trust_env = False
        body = {"current_app": "CRM", "credential": user["username"]}
        for _ in range(5):  # warm-up
            http.post(f"{server.url}/zato/sso/password/reset", json=body, timeout=60)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            answer = http.post(f"{server.url}/zato/sso/password/reset", json=body, timeout=60)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    return times


def worker_rate(url: str, key: str, box: Mailbox, count: int) -> float:
    from webapp.db import writing
    from webapp.sso.email.mail import Message
    from webapp.sso.email.outbox import enqueue

    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "SSO_FERNET_KEYS": [key],
        "SSO_APPS": ["CRM"],
        "TESTING": True,
    }
    app = create_app(config)
    ctx = app.extensions["sso"].ctx
    before = len(box.messages)
    with writing(ctx.engine) as conn:
        for n in range(count):
            enqueue(ctx, conn, Message(f"r{n}@example.com", f"Message {n}", "text " * 40, "<p>html</p>" * 20, "bench"))
    ctx.engine.dispose()
    env = {**os.environ, **server_env(url, key, SSO_SMTP_URL=box.url, SSO_APPS="CRM", SSO_OUTBOX_POLL_MS="50")}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "webapp", "sso", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:  # timed from the first message received (the process's start-up is not the worker's pace)
        while len(box.messages) == before:
            time.sleep(0.001)
        started = time.perf_counter()
        while len(box.messages) - before < count:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(10)
    return (count - 1) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--sink-delay", type=float, default=0.0)
    parser.add_argument("--before", action="store_true", help="the code before the outbox: no worker, no rate")
    parser.add_argument(
        "--no-worker", action="store_true", help="the outbox's request path alone: no worker competes for the CPU"
    )
    args = parser.parse_args()
    key = Fernet.generate_key().decode()
    kinds = args.db.split(",")
    with tempfile.TemporaryDirectory() as tmp, Mailbox(delay=args.sink_delay, parse=False) as box:
        pg = PostgresServer().__enter__() if "postgresql" in kinds else None
        try:
            for kind in kinds:
                url = fresh(kind, Path(tmp), pg)
                times = reset_times(kind, url, key, box, args.requests, worker=not (args.before or args.no_worker))
                ms = sorted(t * 1000 for t in times)
                print(
                    f"{kind:10} reset request: median {statistics.median(ms):.1f} ms, "
                    f"p90 {ms[int(len(ms) * 0.9)]:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} requests, "
                    f"sink delay {args.sink_delay} s{', no worker' if args.no_worker else ''})"
                )
                if not args.before:
                    rate = worker_rate(fresh(kind, Path(tmp), pg), key, box, args.messages)
                    print(f"{kind:10} worker: {rate:.0f} messages/s ({args.messages} messages, one worker)")
        finally:
            if pg is not None:
                pg.__exit__(None, None, None)


if __name__ == "__main__":
    main()
