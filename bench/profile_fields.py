"""Profile fields (issue 24): the JSON update writing two profile fields beside one writing two built-ins,
and a search on a searchable profile field at scale, on SQLite and PostgreSQL.

    .venv/bin/python bench/profile_fields.py                 # 1,000,000 users, both databases
    .venv/bin/python bench/profile_fields.py --scale 100000 --db sqlite --rounds 3 --requests 300
    .venv/bin/python bench/profile_fields.py --scale 0       # the update only

In process (`app.test_client()`, one thread): what is compared is the service's work per request, the same
code path and the same run for both updates, taking turns request by request, in rounds (the best round of
each is kept, as bench/run.py's --repeat does on a busy machine); this process's CPU per request
(`time.process_time`) is reported beside the requests per second, and is the steadier figure under load.
The search is timed as 30 sequential requests after warm-ups.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import bulk_insert_users, open_databases
from tests.conftest import PASSWORD, app_config
from webapp import create_app
from webapp.db import make_engine, writing
from webapp.schema import upgrade
from webapp.sso import Call
from webapp.sso.kernel.profile_fields import search_key
from webapp.sso.kernel.profile_rows import load_schema
from webapp.sso.kernel.tables import users

DEPARTMENTS = ("Finance", "Operations", "Sales", "Engineering", "Legal", "Support", "Marketing")


def patch(client, ust: str, ids: list[str], fields: tuple[str, str], n: int) -> None:
    """One PATCH setting both `fields` of one of `ids` to new values."""
    values = {name: (n % 400 + 1) if name == "desk" else f"v{n}" for name in fields}
    answer = client.patch(
        "/zato/sso/user", json={"ust": ust, "current_app": "CRM", "user_id": ids[n % len(ids)], **values}
    )
    assert answer.status_code == 200, answer.get_json()


def interleaved(client, ust: str, ids: list[str], kinds: tuple[tuple[str, str], ...], count: int, start: int):
    """For each of `kinds` (the fields a PATCH sets): (requests per second, this process's CPU milliseconds per
    request) over `count` requests of each, the kinds taking turns request by request, so that both meet the
    same machine (on a loaded one, CPU per request is the steadier figure)."""
    wall, cpu = [0.0] * len(kinds), [0.0] * len(kinds)
    for i in range(count):
        for k, fields in enumerate(kinds):
            began, began_cpu = time.perf_counter(), time.process_time()
            patch(client, ust, ids, fields, start + i)
            wall[k] += time.perf_counter() - began
            cpu[k] += time.process_time() - began_cpu
    return [(count / wall[k], cpu[k] * 1000 / count) for k in range(len(kinds))]


def seed_values(engine, department) -> float:
    """Every seeded user gets a department (7 values, round robin): one INSERT ... SELECT."""
    began = time.perf_counter()
    with writing(engine) as conn:
        ids = conn.execute(select(users.c.user_id).order_by(users.c.user_id)).scalars().all()
        rows = [
            {
                "user_id": user_id,
                "field_id": department.id,
                "text_value": DEPARTMENTS[i % len(DEPARTMENTS)],
                "search_key": search_key(department, DEPARTMENTS[i % len(DEPARTMENTS)]),
            }
            for i, user_id in enumerate(ids)
        ]
        conn.execute(
            text(
                "INSERT INTO sso_profile_value (user_id, field_id, text_value, search_key) "
                "VALUES (:user_id, :field_id, :text_value, :search_key) ON CONFLICT DO NOTHING"
            ),
            rows,
        )
    with writing(engine) as conn:
        conn.execute(text("ANALYZE sso_profile_value" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - began


def search_times(client, ust: str, criteria: dict, count: int = 30) -> dict[str, float]:
    for _ in range(3):
        client.get("/zato/sso/user/search", json={"ust": ust, "current_app": "CRM", **criteria})
    times = []
    for _ in range(count):
        began = time.perf_counter()
        answer = client.get("/zato/sso/user/search", json={"ust": ust, "current_app": "CRM", **criteria})
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.get_json()
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95) - 1], "max_ms": times[-1]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the request log and the mail warning would drown the figures
    for db in open_databases(args.db.split(",")):
        app = create_app(app_config(db.url, SSO_LOGIN_MAX_FAILURES=0))
        upgrade(app.extensions["sso_engine"])
        sso = app.extensions["sso"]
        sso.operator.create_local("admin", PASSWORD, super_user=True)
        ids = [sso.operator.create_local(f"target{i}", None, super_user=False)["user_id"] for i in range(64)]
        ust = sso.user.login("b", "admin", PASSWORD, "CRM", "127.0.0.1").ust
        admin = sso.serve(Call("b", ust, "CRM", "127.0.0.1"))
        admin.define_profile_field({"name": "department", "label": "Department", "type": "text", "searchable": True})
        admin.define_profile_field({"name": "desk", "label": "Desk", "type": "integer"})
        client = app.test_client()
        kinds = (("display_name", "first_name"), ("department", "desk"))
        interleaved(client, ust, ids, kinds, 50, 0)  # warm-up
        builtin, profile = [], []
        for r in range(args.rounds):
            b, p = interleaved(client, ust, ids, kinds, args.requests, 1000 * r)
            builtin.append(b)
            profile.append(p)
        rate_b, rate_p = max(r for r, _ in builtin), max(r for r, _ in profile)
        cpu_b, cpu_p = min(c for _, c in builtin), min(c for _, c in profile)
        print(
            f"{db.name}: JSON update, two built-ins {rate_b:.0f} req/s ({cpu_b:.2f} ms CPU/req), two profile fields "
            f"{rate_p:.0f} req/s ({cpu_p:.2f} ms CPU/req): {rate_p / rate_b:.2f}x by req/s, {cpu_b / cpu_p:.2f}x by "
            f"CPU (rounds: {[round(r) for r, _ in builtin]} / {[round(r) for r, _ in profile]} req/s, "
            f"{[round(c, 2) for _, c in builtin]} / {[round(c, 2) for _, c in profile]} ms CPU)",
            flush=True,
        )
        if not args.scale:
            app.extensions["sso_engine"].dispose()
            continue
        engine = make_engine(db.url)  # no request deadline: seeding a million rows takes minutes
        seeded = bulk_insert_users(engine, 0, args.scale)
        with engine.connect() as conn:
            department = load_schema(conn).by_name["department"]
        valued = seed_values(engine, department)
        print(f"{db.name}: seeded {args.scale:,} users in {seeded:.0f} s and their departments in {valued:.0f} s")
        for criteria in ({"department": "legal"}, {"department": "Legal", "username": "user0000007"}):
            print(f"{db.name}: search {criteria} at {args.scale:,}: {search_times(client, ust, criteria)}", flush=True)
        engine.dispose()
        app.extensions["sso_engine"].dispose()


if __name__ == "__main__":
    main()
