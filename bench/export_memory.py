"""Download my data at scale (SPEC §20): the export of a user with 100,000 audit records, its time and the
process's peak RSS, against the same process before the export (imports, app, database ready).

    .venv/bin/python bench/export_memory.py                 # SQLite, 100,000 records
    .venv/bin/python bench/export_memory.py --db postgresql --records 100000
    .venv/bin/python bench/export_memory.py --profile-fields   # every update also changes two profile fields,
                                                              # one the person may not view (its values hidden)

The records are inserted straight into sso_audit (a realistic mix: updates by the person and by an
administrator, sign-ins), then the export runs through the Python facade, writing the document to a file
chunk by chunk; the file is parsed afterwards to check it holds every record. Peak RSS is the kernel's
VmHWM (the process's high-water mark), read before and after the export."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.db import make_engine  # noqa: E402
from webapp.schema import upgrade  # noqa: E402
from webapp.sso.kernel.context import utcnow  # noqa: E402
from webapp.sso.kernel.tables import audit  # noqa: E402

PASSWORD = "correct horse battery staple 7"
# One key for the run: the export process inherits it from the set-up's environment.
FERNET_KEY = os.environ.setdefault("BENCH_FERNET_KEY", Fernet.generate_key().decode())


def peak_mib() -> float:
    """The process's peak RSS (VmHWM: unlike `ru_maxrss`, not inherited across exec from the set-up)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def app_on(url: str):
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "SSO_FERNET_KEYS": [FERNET_KEY],
            "SSO_SCRYPT_N": 16,
            "SSO_LOG_LEVEL": "WARNING",
        }
    )


def export(url: str, records: int, username: str = "person") -> dict[str, float]:
    """In its own process: the export of `username`, written to a file chunk by chunk, timed, with peak RSS."""
    sso = app_on(url).extensions["sso"]
    ust = sso.user.login("bench", username, PASSWORD, "CRM", "127.0.0.1").ust
    before = peak_mib()
    started = time.perf_counter()
    out = Path(tempfile.mkdtemp(prefix="export-bench-")) / "my-data.json"
    with out.open("w", encoding="utf-8") as file:
        for chunk in sso.user.export_user("bench", ust, "CRM", "127.0.0.1"):
            file.write(chunk)
    elapsed = time.perf_counter() - started
    after = peak_mib()
    size = out.stat().st_size
    with out.open(encoding="utf-8") as file:
        count = len(json.load(file)["audit"])  # after the measure: parsing it all is the reader's cost
    assert count >= records, count
    print(
        f"{url.split(':')[0]}: {count} audit records, {size / 2**20:.1f} MiB of JSON in {elapsed:.2f} s; "
        f"peak RSS {before:.1f} MiB before the export, {after:.1f} MiB after (+{after - before:.1f} MiB)"
    )
    result = {"records": count, "mib": round(size / 2**20, 1), "seconds": round(elapsed, 2)}
    return {**result, "peak_rss_before_mib": round(before, 1), "peak_rss_mib": round(after, 1)}


def seed(url: str, records: int, username: str = "person", *, profile_fields: bool = False) -> None:
    """`username` (a password, no other rights) given `records` audit records, inserted straight into sso_audit;
    with `profile_fields`, every update also changes two profile fields, one the person may not view."""
    sso = app_on(url).extensions["sso"]
    person = sso.operator.create_local(username, PASSWORD, super_user=False)
    admin = sso.operator.create_local(f"{username}-admin", PASSWORD, super_user=True)
    now = utcnow()
    extra: dict = {}
    if profile_fields:
        from webapp.sso import Call

        admin_ust = sso.user.login("bench", f"{username}-admin", PASSWORD, "CRM", "127.0.0.1").ust
        served = sso.serve(Call("bench", admin_ust, "CRM", "127.0.0.1"))
        served.define_profile_field({"name": "department", "label": "Department", "type": "text"})
        served.define_profile_field({"name": "hr_note", "label": "HR note", "type": "text", "view": [], "edit": []})
        extra = {"department": {"old": "Sales", "new": "Ops"}, "hr_note": {"old": "a note", "new": "another"}}
    rows = [
        {
            "time": now,
            "cid": f"bench-{i}",
            "action": ("update", "login", "update")[i % 3],
            "actor_id": admin["user_id"] if i % 3 == 2 else person["user_id"],
            "target_id": person["user_id"],
            "channel": "api",
            "current_app": "CRM",
            "remote_addr": "10.0.0.1",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
            "changes": {"display_name": {"old": f"name {i}", "new": f"name {i + 1}"}, **extra} if i % 3 != 1 else {},
        }
        for i in range(records)
    ]
    loader = create_engine(url)  # no statement deadline: loading 100,000 rows is the set-up, not the measure
    with loader.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(audit), rows[start : start + 5000])
    del rows
    loader.dispose()
    app_on(url).extensions["sso_engine"].dispose()


def measure(url: str, records: int, username: str = "person", *, profile_fields: bool = False) -> dict[str, float]:
    """seed(), then the export in a fresh process (the set-up's memory, 100,000 rows built here, is not in its
    peak): its figures (bench/run.py's data-export part calls this)."""
    seed(url, records, username, profile_fields=profile_fields)
    done = subprocess.run(
        [sys.executable, __file__, "--export", url, "--records", str(records), "--username", username],
        check=True,
        capture_output=True,
        text=True,
    )
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("EXPORT_JSON "))
    return json.loads(line.removeprefix("EXPORT_JSON "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--profile-fields", action="store_true", help="updates change profile fields too")
    parser.add_argument("--export", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--username", default="person", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        print("EXPORT_JSON " + json.dumps(export(args.export, args.records, args.username)), flush=True)
        return
    work = Path(tempfile.mkdtemp(prefix="export-bench-"))
    server = None
    if args.db == "sqlite":
        url = f"sqlite:///{work / 'sso.db'}"
    else:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        url = server.create_database("export_bench")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        figures = measure(url, args.records, profile_fields=args.profile_fields)
        print(
            f"{args.db}: {figures['records']} audit records, {figures['mib']} MiB of JSON in {figures['seconds']} s; "
            f"peak RSS {figures['peak_rss_before_mib']} MiB before the export, {figures['peak_rss_mib']} MiB after"
        )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
