"""The account policies' dry run and run at scale (issue 27).

    .venv/bin/python bench/policies.py [--users 20000] [--due 1000] [--db sqlite,postgresql]

For each database: a fresh migrated database with `--users` accounts (rows written directly: no password
hashing), each with one `login` audit record; `--due` of them signed in 100 days ago, the others today.
The lock policy is switched on at 90 days. Timed: the dry run (the plan over every account), the run
(which locks the `--due` accounts, each in its own transaction with its claim, audit record and sessions
ended), and a second run (which finds every claim and does nothing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert  # noqa: E402

from tests.conftest import app_config  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.db import writing  # noqa: E402
from webapp.schema import upgrade  # noqa: E402
from webapp.sso.kernel.context import utcnow  # noqa: E402
from webapp.sso.kernel.tables import audit, policies, users  # noqa: E402
from webapp.sso.policies import run  # noqa: E402


def _seed(engine, count: int, due: int) -> None:
    now = utcnow()
    rows, logins = [], []
    for number in range(count):
        user_id = f"zusrbench{number:019d}"
        name = f"bench{number:06d}"
        rows.append(
            {
                "user_id": user_id,
                "username": name,
                "username_search": name,
                "sign_up_time": now - timedelta(days=200),
                "sign_up_status": "final",
                "approval_status": "approved",
                "is_locked": False,
                "is_super_user": False,
                "is_active": True,
                "is_internal": False,
                "password_is_set": False,
                "password_must_change": False,
                "is_totp_enabled": False,
                "is_rate_limit_active": False,
                "version": 1,
            }
        )
        when = now - timedelta(days=100) if number < due else now
        logins.append(
            {
                "time": when,
                "cid": "bench",
                "action": "login",
                "actor_id": user_id,
                "target_id": user_id,
                "channel": "api",
                "changes": {},
            }
        )
    with writing(engine) as conn:
        for start in range(0, count, 2000):
            conn.execute(insert(users), rows[start : start + 2000])
            conn.execute(insert(audit), logins[start : start + 2000])
        conn.execute(insert(policies).values(name="lock_inactive", is_enabled=True, days=90, modified_time=now))


def measure(kind: str, url: str, count: int, due: int) -> None:
    app = create_app(app_config(url))
    ctx = app.extensions["sso"].ctx
    _seed(ctx.engine, count, due)
    started = time.perf_counter()
    preview = run.dry_run(ctx, None)
    dry = time.perf_counter() - started
    started = time.perf_counter()
    report = run.run_policies(ctx)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = run.run_policies(ctx)
    second = time.perf_counter() - started
    assert preview.act_count["lock_inactive"] == due == len(report.done) and again.done == []
    print(
        f"{kind}: {count} users, {due} due: dry run {dry * 1000:.0f} ms; run {first:.2f} s "
        f"({first / max(due, 1) * 1000:.1f} ms a locked user); second run {second * 1000:.0f} ms"
    )
    app.extensions["sso_engine"].dispose()


def _migrate(url: str) -> None:
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    kinds = args.db.split(",")
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in kinds:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            _migrate(url)
            measure("sqlite", url, args.users, args.due)
        if "postgresql" in kinds:
            with PostgresServer() as server:
                url = server.create_database("bench_policies")
                _migrate(url)
                measure("postgresql", url, args.users, args.due)


if __name__ == "__main__":
    main()
