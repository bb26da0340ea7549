"""Audit export (streaming, bounded memory, jsonl and csv, the command line) and pruning (while writes run)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update

from webapp import create_app
from webapp.db import make_engine, reading, writing
from webapp.sso import Call, SSOError
from webapp.sso.kernel import tables as models
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.prune import prune

from ..conftest import FERNET_KEY, PASSWORD
from ..conftest import app_config as config_for

APP, ADDR = "CRM", "127.0.0.1"
ROWS = 100_000
audit, login_failures, sessions = models.audit, models.login_failures, models.sessions
ROOT = Path(__file__).resolve().parents[2]


def add_audit_rows(engine, count: int, *, days_ago: float = 0, target: str = "zusr-bulk") -> None:
    when = utcnow() - timedelta(days=days_ago)
    row = {
        "time": when,
        "cid": "bulk",
        "action": "update",
        "actor_id": "zusr-admin",
        "target_id": target,
        "channel": "api",
        "current_app": APP,
        "remote_addr": ADDR,
        "user_agent": "Mozilla/5.0 (X11; Linux)",
        "changes": {"display_name": {"old": "A somewhat long old display name", "new": "And a new one"}},
    }
    with writing(engine) as conn:
        for start in range(0, count, 10_000):
            conn.execute(insert(audit), [row] * min(10_000, count - start))


def audit_count(engine) -> int:
    with reading(engine) as conn:
        return conn.execute(select(func.count()).select_from(audit)).scalar_one()


def add_many_audit_rows(engine, count: int) -> None:
    """`count` realistic audit rows, made by the database itself (a Python loop would take longer than the test)."""
    changes = json.dumps({"display_name": {"old": "A somewhat long old display name", "new": "And a new one"}})
    columns = "time, cid, action, actor_id, target_id, channel, current_app, remote_addr, user_agent, changes"
    values = (
        ":now, 'bulk-' || i, 'update', 'zusr-admin', 'zusr-bulk', 'api', 'CRM', '127.0.0.1', "
        "'Mozilla/5.0 (X11; Linux x86_64)', :changes"
    )
    if engine.dialect.name == "sqlite":
        sql = (
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
            f"INSERT INTO sso_audit ({columns}) SELECT {values} FROM n"
        )
    else:
        sql = (
            f"INSERT INTO sso_audit ({columns}) SELECT {values.replace(':changes', 'CAST(:changes AS json)')} "
            f"FROM generate_series(1, :count) AS i"
        )
    with writing(engine) as conn:
        conn.execute(text(sql), {"now": utcnow(), "changes": changes, "count": count})


RSS_PROBE = """
import atexit, re, sys
from flask.cli import main
from webapp import create_app

def high_water_kb():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))

create_app().extensions["sso_engine"].dispose()   # everything loaded and connected once: the baseline
before = high_water_kb()
atexit.register(lambda: sys.stderr.write(f"RSS_KB={before},{high_water_kb()}\\n"))
sys.argv = ["flask", "--app", "webapp", "sso", "export-audit", *sys.argv[1:]]
main()
"""


def export_in_a_process(db_url: str, out: Path, *args: str) -> tuple[int, int]:
    """Run `flask sso export-audit ARGS > out` in its own process; returns its peak RSS (KiB) before and
    after the export."""
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "export-test", "SSO_FERNET_KEYS": FERNET_KEY}
    with out.open("w") as target:
        done = subprocess.run(
            [sys.executable, "-c", RSS_PROBE, *args],
            cwd=ROOT,
            env=env,
            stdout=target,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    found = re.search(r"RSS_KB=(\d+),(\d+)", done.stderr)
    assert found, done.stderr
    before, after = found.groups()
    return int(before), int(after)


def test_exporting_100k_audit_rows_streams_them_in_bounded_memory(sqlite_template, tmp_path):
    # One database: both read in the same LIMIT batches (the PostgreSQL path is covered by the tests below).
    shutil.copy(sqlite_template, tmp_path / "sso.db")
    db_url = f"sqlite:///{tmp_path}/sso.db"
    engine = make_engine(db_url)
    add_many_audit_rows(engine, ROWS)
    engine.dispose()
    started = time.monotonic()
    idle, peak = export_in_a_process(db_url, tmp_path / "all.jsonl")
    took = time.monotonic() - started
    size = (tmp_path / "all.jsonl").stat().st_size
    with (tmp_path / "all.jsonl").open() as exported:
        ids = [json.loads(line)["id"] for line in exported]
    assert len(ids) == ROWS and ids == sorted(ids)
    # ~36 MB of text; its rows as Python objects would be several times that. Measured: a few MiB over idle.
    grew = (peak - idle) * 1024
    assert size > 30_000_000
    report = f"the export grew the process by {grew / 2**20:.1f} MiB for {size / 2**20:.0f} MiB in {took:.1f} s"
    print(report)
    assert grew < 16 * 2**20, report


def test_the_export_command_writes_jsonl_and_csv_from_a_date_on(app, sso, make_user, login):
    make_user("root", super_user=True)
    add_audit_rows(sso.ctx.engine, 3, days_ago=40, target="zusr-old")
    ust = login("root")
    sso.user.update_current_user("cid-export", {"display_name": '=HYPERLINK("x")'}, ust, APP, ADDR)
    runner = app.test_cli_runner()

    everything = runner.invoke(args=["sso", "export-audit"])
    assert everything.exit_code == 0, everything.output
    records = [json.loads(line) for line in everything.output.splitlines()]
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    assert [r["target_id"] for r in records].count("zusr-old") == 3
    assert records[-1]["cid"] == "cid-export" and records[-1]["action"] == "update"
    assert records[-1]["changes"]["display_name"]["new"] == '=HYPERLINK("x")'

    since = (utcnow() - timedelta(days=1)).date().isoformat()
    recent = runner.invoke(args=["sso", "export-audit", "--since", since, "--format", "csv"])
    assert recent.exit_code == 0, recent.output
    rows = list(csv.DictReader(io.StringIO(recent.output)))
    assert "zusr-old" not in {row["target_id"] for row in rows}
    update_row = [row for row in rows if row["cid"] == "cid-export"][-1]
    changes = json.loads(update_row["changes"])
    assert changes["display_name"]["new"] == '=HYPERLINK("x")'  # inside JSON text: not a formula cell

    bad = runner.invoke(args=["sso", "export-audit", "--since", "last tuesday"])
    assert bad.exit_code != 0 and "--since" in bad.output


def test_a_users_history_export_is_for_super_users_and_the_user_only(sso, make_user, login):
    root = make_user("root", super_user=True)
    alice, bob = make_user("alice"), make_user("bob")
    root_ust, alice_ust, bob_ust = login("root"), login("alice"), login("bob")
    sso.user.update_user_by_id("c1", alice["user_id"], {"display_name": "Alice"}, root_ust, APP, ADDR)
    sso.user.update_user_by_id("c2", bob["user_id"], {"display_name": "Bob"}, root_ust, APP, ADDR)

    text = "".join(
        sso.serve(Call(cid="c3", ust=root_ust, current_app=APP, remote_addr=ADDR)).export_history(
            alice["user_id"], fmt="csv"
        )
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["target_id"] for row in rows} == {alice["user_id"]}
    assert any(row["cid"] == "c1" for row in rows)
    own = "".join(
        sso.serve(Call(cid="c4", ust=alice_ust, current_app=APP, remote_addr=ADDR)).export_history(alice["user_id"])
    )
    assert all(json.loads(line)["target_id"] == alice["user_id"] for line in own.splitlines())
    with pytest.raises(SSOError):
        sso.serve(Call(cid="c5", ust=bob_ust, current_app=APP, remote_addr=ADDR)).export_history(alice["user_id"])
    assert root["user_id"]


def test_prune_while_writes_run_removes_only_what_expired(db_url):
    # The throttle off: its own bookkeeping (it forgets old marks as it counts) would race the counts here.
    app = create_app(
        config_for(db_url, SSO_AUDIT_RETENTION_DAYS=30, SSO_LOGIN_FAILURE_WINDOW=300, SSO_LOGIN_MAX_FAILURES=0)
    )
    sso, engine = app.extensions["sso"], app.extensions["sso_engine"]
    sso.operator.create_local("busy", PASSWORD, super_user=False)
    sso.operator.create_local("idle", PASSWORD, super_user=False)
    now = utcnow()

    live = [sso.user.login("c", "busy", PASSWORD, APP, ADDR).ust for _ in range(5)]
    stale = [sso.user.login("c", "idle", PASSWORD, APP, ADDR).ust for _ in range(40)]
    with writing(engine) as conn:
        digests = [sso.ctx.codec.session_hash_of(ust) for ust in stale]
        conn.execute(
            update(sessions)
            .where(sessions.c.session_hash.in_(digests))
            .values(expiration_time=now - timedelta(minutes=1))
        )
        conn.execute(
            insert(login_failures), [{"key": f"a:10.0.0.{i}", "time": now - timedelta(hours=2)} for i in range(30)]
        )
        conn.execute(
            insert(login_failures),
            [{"key": "u:someone", "time": now}, {"key": "k:someone|10.0.0.1", "time": now - timedelta(days=2)}],
        )
    add_audit_rows(engine, 120, days_ago=45, target="zusr-old")
    add_audit_rows(engine, 10, days_ago=29, target="zusr-recent")
    recent_audit = audit_count(engine) - 120

    stop, errors, made = threading.Event(), [], []

    def keep_writing():
        try:
            while not stop.is_set():
                ust = sso.user.login("w", "busy", PASSWORD, APP, ADDR).ust
                made.append(ust)
                sso.user.update_current_user("w", {"display_name": f"n{len(made)}"}, ust, APP, ADDR)
                sso.user.renew("w", live[len(made) % len(live)], APP, ADDR)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        removed: dict[str, int] = {}
        for _ in range(3):
            for name, count in prune(sso.ctx, batch=7).items():
                removed[name] = removed.get(name, 0) + count
    finally:
        stop.set()
        writer.join(60)
    assert not errors, errors
    assert made, "the writer never wrote while prune ran"

    assert {name: removed[name] for name in ("expired sessions", "login-failure marks", "audit records")} == {
        "expired sessions": 40,
        "login-failure marks": 30,
        "audit records": 120,
    }
    for ust in live + made:  # every live session still works
        assert sso.user.get_current_user("c", ust, APP, ADDR)["username"] == "busy"
    with reading(engine) as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(sessions).where(sessions.c.expiration_time <= utcnow())
            ).scalar_one()
            == 0
        )
        assert conn.execute(select(func.count()).select_from(login_failures)).scalar_one() == 2  # live, known
        assert (
            conn.execute(select(func.count()).select_from(audit).where(audit.c.target_id == "zusr-old")).scalar_one()
            == 0
        )
    # every recent record kept, plus those the writer added
    assert audit_count(engine) >= recent_audit + 2 * len(made)
    engine.dispose()


def test_prune_keeps_the_audit_forever_by_default_and_the_command_says_what_it_removed(app, sso):
    add_audit_rows(sso.ctx.engine, 5, days_ago=3650)
    result = app.test_cli_runner().invoke(args=["sso", "prune"])
    assert result.exit_code == 0, result.output
    assert "audit records: 0 removed" in result.output and "expired sessions: 0 removed" in result.output
    assert audit_count(sso.ctx.engine) == 5


def test_prune_removes_email_tokens_a_day_after_they_expired_and_old_mail_request_marks(app, sso, make_user):
    user = make_user("tess")
    now = utcnow()
    tokens, marks = models.email_tokens, models.mail_requests
    with writing(sso.ctx.engine) as conn:
        conn.execute(
            insert(tokens),
            [
                {
                    "token_hash": f"h{i}",
                    "purpose": "reset",
                    "user_id": user["user_id"],
                    "creation_time": now,
                    "expiration_time": now - timedelta(hours=hours),
                }
                for i, hours in enumerate((49, 2))
            ],
        )
        conn.execute(
            insert(marks), [{"key": "c:tess", "time": now - timedelta(hours=2)}, {"key": "c:tess", "time": now}]
        )
    removed = sso.prune()
    assert (removed["email tokens"], removed["mail-request marks"]) == (1, 1)
    with reading(sso.ctx.engine) as conn:
        assert conn.execute(select(tokens.c.token_hash)).scalars().all() == ["h1"]


def test_the_audit_export_names_the_record_a_restore_put_back(app, sso, make_user, login):
    """`restored_from` (SPEC §20) travels with the record in both formats, from the command line and in a
    user's history download; records that restored nothing carry null (an empty cell in CSV)."""
    root = make_user("root", super_user=True)
    ust = login("root")
    sso.user.update_current_user("c-set", {"display_name": "Before"}, ust, APP, ADDR)
    sso.user.update_current_user("c-oops", {"display_name": "Oops"}, ust, APP, ADDR)
    runner = app.test_cli_runner()
    oops = [json.loads(line) for line in runner.invoke(args=["sso", "export-audit"]).output.splitlines()][-1]
    assert oops["cid"] == "c-oops" and oops["restored_from"] is None
    sso.user.restore_value("c-restore", oops["id"], "display_name", ust, APP, ADDR)

    records = [json.loads(line) for line in runner.invoke(args=["sso", "export-audit"]).output.splitlines()]
    assert records[-1]["cid"] == "c-restore" and records[-1]["restored_from"] == oops["id"]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(args=["sso", "export-audit", "--format", "csv"]).output)))
    assert (rows[-1]["cid"], rows[-1]["restored_from"]) == ("c-restore", str(oops["id"]))
    assert rows[-2]["restored_from"] == ""
    served = sso.serve(Call(cid="c-own", ust=ust, current_app=APP, remote_addr=ADDR))
    own = [json.loads(line) for line in "".join(served.export_history(root["user_id"])).splitlines()]
    assert own[-1]["restored_from"] == oops["id"]
