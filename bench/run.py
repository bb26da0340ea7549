"""`make bench`: wrk against gunicorn (2 sync workers), on SQLite and on PostgreSQL.

For each database: a fresh migrated database, a super-user and target users, one gunicorn "node"
(tests/server.LiveServer serving bench/reference_wsgi.py: the real app plus a bare-UPDATE reference
route), then wrk at each connection count against

  reference   POST /bench/reference            one UPDATE, no session check (the floor)
  api         PATCH /zato/sso/user             the JSON update, a new display name each request
  form        POST <Manage user save>          the web console's save, 303 = success
  login       POST /zato/sso/user/login        scrypt at the server's SSO_SCRYPT_N
  scim        PATCH /scim/v2/Users/<id>        a SCIM PATCH of two attributes (bench/scim_bench.py)

then, in-process, statements / transactions per request and pyinstrument profiles of each kind of
request; worker RSS and PSS; pages and searches with 100,000 and 1,000,000 users seeded straight into
the tables (COPY on PostgreSQL, one executemany transaction on SQLite; folded search columns, and the
trigram indexes of migration 0008 kept in step); on PostgreSQL, two nodes on one database. Prints
tables and writes bench/results/latest.json; `--compare FILE` sets this run beside an earlier one.

Then Part III's new parts, each against a baseline in the same run (bench/parts.py): the role check, profile
fields, a passkey sign-in against a password one, the outbox worker, the data export of 100,000 audit records.

    .venv/bin/python bench/run.py [--quick] [--duration 10] [--connections 8,32] [--db sqlite,postgresql]
                                  [--targets reference,api,form,login,...] [--only PART,...]
                                  [--scale 100000,1000000] [--no-scale]
                                  [--no-profile] [--no-nodes] [--preload] [--repeat N] [--spread N]
                                  [--compare FILE] [--output FILE]

Routes come from the app's url map by endpoint name (`url_for`, ENDPOINTS below); the console's
forms are read with the tests' parser (tests/web/html_forms.py); the field names are set in
`form_save_fields()` and `web_login_fields()` (the only functions to adjust when the forms change).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask import url_for  # noqa: E402
from parts import PARTS, describe, run_parts  # noqa: E402  (bench/ is sys.path[0])
from profiling import print_profile, profile_requests  # noqa: E402  (bench/ is sys.path[0])
from scim_bench import add_scim_ratios, scim_call, scim_client, scim_lines, scim_target  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from werkzeug.datastructures import MultiDict  # noqa: E402
from werkzeug.routing import BuildError  # noqa: E402

from tests.pgserver import PostgresServer, PostgresUnavailable  # noqa: E402
from tests.server import LiveServer  # noqa: E402
from tests.web.html_forms import Form, all_forms  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.db import make_engine, reading, writing  # noqa: E402
from webapp.schema import upgrade  # noqa: E402
from webapp.sso.kernel.attributes import fold  # noqa: E402
from webapp.sso.kernel.rows import new_user_id  # noqa: E402
from webapp.sso.kernel.tables import audit, users  # noqa: E402

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
WSGI_APP = "bench.reference_wsgi:app"
BARE_APP = "bench.bare_wsgi:app"  # the bare reference: a minimal Flask + Core app, not ours
API_APP = "CRM"
SUPER_USER = "benchsuper"
TARGET_USER = "benchtarget"
PASSWORD = "Quiet-River-4821"
SCALES = (100_000, 1_000_000)
TIMED_REQUESTS = 50
HISTORY_RECORDS = 300  # the Manage-user page at scale is timed for a user with this many audit records
EXPORT_RECORDS = 100_000  # the history download is timed for a user with this many audit records
WARMUP_SECONDS = 1
DRAIN_SECONDS = 0.5  # requests in flight when wrk stops still complete on the server


# ================================================================================================
# The web console's form field names: the one place to adjust them.
# ================================================================================================

DISPLAY_NAME_FIELD = "display_name"  # the edit form's display-name input
LIST_QUERY_PARAM = "q"  # the Manage-user list's search box
# Fields beside the display-name box (webapp/web/attribute_form/parse.py). Someone typing a new name unticks its
# "clear" box, so CLEAR_FIELDS are always left out. STALE_FIELDS pin a save to the page it came from:
# a second save from the same page is (rightly) a conflict with the first, so the benchmark leaves
# them out when it must; the server then compares with what is stored, as it does for a form without them.
CLEAR_FIELDS = ("clear_{name}",)
STALE_FIELDS = ("version", "original_{name}", "conflict_{name}")


def types_of(form: Form) -> dict[str, str]:
    """Every named control of a form -> its type."""
    found: dict[str, str] = {}
    for control in form.controls:
        if control.name:
            found.setdefault(control.name, control.type)
    return found


def fields_of(form: Form) -> list[tuple[str, str]]:
    """What a browser without JavaScript posts from the form untouched."""
    return form.data()


def web_login_fields(form: Form, username: str, password: str) -> list[tuple[str, str]]:
    """What the /login form posts: its own hidden fields (CSRF token) plus username and password."""
    password_names = {name for name, kind in types_of(form).items() if kind == "password"}
    password_name = next(iter(password_names), "password")
    username_name = next(
        (name for name in ("username", "login", "user", "email") if name in types_of(form)), "username"
    )
    fields = [(name, value) for name, value in fields_of(form) if name not in (username_name, password_name)]
    return [*fields, (username_name, username), (password_name, password)]


def form_save_fields(form: Form, *, drop_stale: bool) -> tuple[list[tuple[str, str]], str]:
    """The Manage-user save as a browser without JavaScript posts it when only the display name changed.

    Returns (every other field with its value as the page rendered it, the display-name field's name);
    the wrk script appends `<display-name field>=<new value>` to the first part. `drop_stale` leaves out
    the STALE_FIELDS of the display name too (run.py tries with them first, then without).
    """
    types = types_of(form)
    name = (
        DISPLAY_NAME_FIELD
        if DISPLAY_NAME_FIELD in types
        else next((n for n in types if n.endswith(DISPLAY_NAME_FIELD)), DISPLAY_NAME_FIELD)
    )
    left_out = {name, *(pattern.format(name=name) for pattern in CLEAR_FIELDS + (STALE_FIELDS if drop_stale else ()))}
    fields = [(n, v) for n, v in fields_of(form) if n not in left_out]
    return fields, name


# ================================================================================================
# The routes, by endpoint name (url_for)
# ================================================================================================

ENDPOINTS = {
    "api_update": "api.update_user",
    "api_search": "api.search",
    "api_login": "api.login",
    "web_login": "web.login",
    "account": "web.account",
    "edit": "web.user_edit",
    "user_list": "web.user_list",
}
ID_MARK = "USERIDMARK"
# Every signed-in console page (GET), counted in-process (statements, read and write transactions):
# (label, endpoint, takes the target's user_id, query string). A missing endpoint is noted and skipped.
CONSOLE_PAGES = (
    ("page: My account", "web.account", False, ""),
    ("page: My account, history", "web.account_history", False, ""),
    ("page: change password", "web.change_password", False, ""),
    ("page: two-factor", "web.two_factor", False, ""),
    ("page: API clients", "web.api_clients", False, ""),
    ("page: user list", "web.user_list", False, ""),
    ("page: user list, search 'ann'", "web.user_list", False, "q=ann"),
    ("page: new user", "web.user_create", False, ""),
    ("page: Manage user", "web.user_edit", True, ""),
    ("page: Manage user, history", "web.user_history", True, ""),
    ("page: Manage user, confirm lock", "web.user_confirm", True, "action=lock"),
)
# The kinds of request that also get a pyinstrument profile (the rest: counts and ms only).
PROFILED = (
    "bare",
    "api",
    "scim",
    "login",
    "form",
    "page: My account",
    "page: Manage user",
    "page: user list, search 'ann'",
)


@dataclass
class Routes:
    api_update: str | None = None
    api_search: str | None = None
    api_login: str | None = None
    web_login: str | None = None
    account: str | None = None
    edit: str | None = None  # with "{user_id}"
    user_list: str | None = None
    notes: list[str] = field(default_factory=list)


def find_routes(app) -> Routes:
    """The paths of ENDPOINTS, built with url_for; a missing endpoint is noted and its figures skipped."""
    found = Routes()
    with app.test_request_context():
        for key, endpoint in ENDPOINTS.items():
            try:
                path = url_for(endpoint, user_id=ID_MARK) if key == "edit" else url_for(endpoint)
            except BuildError:
                found.notes.append(f"no endpoint {endpoint}: its figures are skipped")
                continue
            setattr(found, key, path.replace(ID_MARK, "{user_id}"))
    return found


# ================================================================================================
# Database and server
# ================================================================================================


@dataclass
class Database:
    name: str
    url: str
    engine: Any = None


# The SCIM client's limit is still checked on every request (each worker reserves a hundredth of it at a
# time), but set high enough that wrk's ~10,000 PATCHes in 10 s are not cut off at the default 6000/m:
# those 429s were cheap answers counted as throughput (2,031 of 9,578 in the first quiet run).
SCIM_BENCH_RATE = "600000/m"


def app_config(url: str, secret: str, fernet_key: str) -> dict[str, Any]:
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "SSO_FERNET_KEYS": [fernet_key],
        "SSO_APPS": [API_APP, "Console"],
        "SSO_LOGIN_MAX_FAILURES": 0,
        "SSO_SCIM_RATE_LIMIT": SCIM_BENCH_RATE,
    }


def prepare(db: Database, config: dict[str, Any], spread: int):
    """Migrate a fresh database, create the super-user and the target user(s), log in; returns (app, seed)."""
    engine = make_engine(db.url)
    upgrade(engine)
    engine.dispose()
    app = create_app(config)
    sso = app.extensions["sso"]
    super_user = sso.operator.create_local(SUPER_USER, PASSWORD, super_user=True)
    target = sso.operator.create_local(TARGET_USER, PASSWORD, super_user=False)
    history = sso.operator.create_local(f"{TARGET_USER}history", None, super_user=False)
    exported = sso.operator.create_local(f"{TARGET_USER}export", None, super_user=False)
    others = [
        sso.operator.create_local(f"{TARGET_USER}{i}", None, super_user=False)["user_id"] for i in range(2, spread + 1)
    ]
    ust = sso.user.login("bench", SUPER_USER, PASSWORD, API_APP, "127.0.0.1").ust
    return app, {
        "super_user_id": super_user["user_id"],
        "target_id": target["user_id"],
        "target_ids": [target["user_id"], *others],
        "history_id": history["user_id"],  # a user given HISTORY_RECORDS audit records for the page timings
        "export_id": exported["user_id"],  # a user given EXPORT_RECORDS audit records for the export
        "ust": ust,
    }


class Node(LiveServer):
    """One app "node": gunicorn -w 2 (sync) serving bench/reference_wsgi.py (or `app`) on a loopback port:
    `port` (from --port-base), or a free one."""

    def __init__(
        self, env: dict[str, str], label: str, *, preload: bool = False, port: int | None = None, app: str = WSGI_APP
    ):
        super().__init__(
            env,
            2,
            app=app,
            extra_args=("--preload",) if preload else (),
            log=RESULTS / f"gunicorn-{label}.log",
            access_log=False,
            port=port,
        )

    @staticmethod
    def worker_peak_rss(pid: int, *, reset: bool = False) -> float | None:
        """A worker's peak RSS in MiB (VmHWM); with `reset`, the peak is first set back to the current RSS."""
        try:
            if reset:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), None)
        return round(int(line.split()[1]) / 1024, 1) if line else None

    def wait_idle(self, limit: float = 60.0) -> None:
        """Until the workers stop using CPU (under 20 ms in half a second), at most `limit` seconds."""
        deadline = time.monotonic() + limit
        used = self.worker_cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.worker_cpu_seconds()
            if now - used < 0.02:
                return
            used = now

    def worker_cpu_seconds(self) -> float:
        """User + system CPU seconds the workers have used so far (/proc/<pid>/stat)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15)
        return total

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        try:
            return [
                int(p) for p in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            ]
        except OSError:
            return []

    def worker_memory(self) -> list[dict[str, float]]:
        """RSS and PSS (shared pages split between the processes sharing them) of each worker, in MiB."""
        sizes = []
        for pid in self.worker_pids():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            kib = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.split()[1:]}
            sizes.append({"rss_mib": round(kib.get("Rss", 0) / 1024, 1), "pss_mib": round(kib.get("Pss", 0) / 1024, 1)})
        return sizes


# ================================================================================================
# wrk
# ================================================================================================


@dataclass
class Target:
    name: str
    script: str
    args: list[str]
    success: int
    writes_version: bool  # each success increments the target user's version
    refresh: Callable[[], list[str]] | None = None  # fresh args before each run (the form's cookies)
    node: Node | None = None  # the server it runs against, when not the run's app node (the bare reference)


def run_wrk(server: Node, target: Target, connections: int, seconds: float) -> dict[str, Any]:
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        target.script,
        server.url,
        "--",
        *target.args,
    ]
    env = {**os.environ, "BENCH_RUN": uuid.uuid4().hex[:8]}
    done = subprocess.run(command, cwd=BENCH, env=env, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def target_state(engine, user_ids: list[str]) -> tuple[int, int]:
    """(sum of versions, audit records) of the target users: how many writes really happened. One statement,
    so both come from one snapshot (PostgreSQL's READ COMMITTED gives each statement its own)."""
    versions = select(func.coalesce(func.sum(users.c.version), 0)).where(users.c.user_id.in_(user_ids))
    records = select(func.count()).select_from(audit).where(audit.c.target_id.in_(user_ids))
    with reading(engine) as conn:
        row = conn.execute(select(versions.scalar_subquery(), records.scalar_subquery())).one()
    return int(row[0]), int(row[1])


def settled_state(engine, user_ids: list[str], at_least: float = DRAIN_SECONDS, limit: float = 20.0) -> tuple[int, int]:
    """target_state once the requests still in flight when wrk stopped have finished: the same figures
    twice, 0.3 s apart (after `at_least` seconds; at most `limit`). On a busy machine a request can
    take seconds, and a write counted after the `before` figures were read would be taken for an extra one."""
    time.sleep(at_least)
    state = target_state(engine, user_ids)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = target_state(engine, user_ids)
        if again == state:
            break
        state = again
    return state


def display_name_of(engine, user_id: str) -> str | None:
    with reading(engine) as conn:
        return conn.execute(select(users.c.display_name).where(users.c.user_id == user_id)).scalar_one()


# ================================================================================================
# The web console, through HTTP
# ================================================================================================


class WebUnavailable(Exception):
    """The web console (or the part of it this step needs) is not there, or not working yet."""


def web_session(base: str, routes: Routes) -> requests.Session:
    """A requests.Session logged in to the web console as the super-user."""
    if not routes.web_login:
        raise WebUnavailable("no POST /login route")
    session = requests.Session()
    page = session.get(base + routes.web_login, timeout=10)
    forms = [f for f in all_forms(page.text) if "password" in types_of(f).values()]
    if page.status_code != 200 or not forms:
        raise WebUnavailable(f"GET {routes.web_login} gave {page.status_code} without a password form")
    form = forms[0]
    url = urljoin(page.url, form.action or routes.web_login)
    answer = session.post(
        url,
        data=web_login_fields(form, SUPER_USER, PASSWORD),
        allow_redirects=False,
        timeout=10,
        headers={"Origin": base, "Referer": page.url},
    )
    if answer.status_code not in (302, 303) or not session.cookies:
        raise WebUnavailable(
            f"web login answered {answer.status_code} (expected a redirect and a cookie); "
            "adjust web_login_fields() in bench/run.py"
        )
    return session


def edit_form(session: requests.Session, base: str, routes: Routes, user_id: str) -> tuple[str, Form]:
    """The Manage-user edit page of `user_id`: (its URL, its form that carries the display name)."""
    if not routes.edit:
        raise WebUnavailable("no Manage user edit route in the url map")
    page_url = base + routes.edit.format(user_id=user_id)
    page = session.get(page_url, timeout=10)
    if page.status_code != 200:
        raise WebUnavailable(f"GET {page_url} gave {page.status_code}")
    forms = [
        f
        for f in all_forms(page.text)
        if f.method.lower() == "post"
        and any(n == DISPLAY_NAME_FIELD or n.endswith(DISPLAY_NAME_FIELD) for n in types_of(f))
    ]
    if not forms:
        raise WebUnavailable(
            f"no POST form with a {DISPLAY_NAME_FIELD!r} field on {page_url}; "
            "adjust DISPLAY_NAME_FIELD / form_save_fields() in bench/run.py"
        )
    return page_url, forms[0]


def form_target(base: str, routes: Routes, seed: dict, engine) -> tuple[Target | None, str]:
    """The wrk target for the form save, checked with two real saves from one page; (None, why) if unusable."""
    try:
        session = web_session(base, routes)
        page_url, form = edit_form(session, base, routes, seed["target_id"])
    except (WebUnavailable, requests.RequestException) as e:
        return None, f"form save: not available yet ({e})"
    post_url = urljoin(page_url, form.action or page_url)
    tried = []
    for drop_stale in (False, True):
        fields, name = form_save_fields(form, drop_stale=drop_stale)
        statuses = []
        for attempt in (1, 2):
            value = f"bench-probe-{uuid.uuid4().hex[:8]}-{attempt}"
            answer = session.post(
                post_url,
                data=[*fields, (name, value)],
                allow_redirects=False,
                timeout=10,
                headers={"Origin": base, "Referer": page_url},
            )
            statuses.append(answer.status_code)
        if statuses == [303, 303] and display_name_of(engine, seed["target_id"]) == value:
            split = urlsplit(post_url)
            path = split.path + (f"?{split.query}" if split.query else "")
            dropped = sorted({n for n, _ in fields_of(form)} - {n for n, _ in fields} - {name})
            note = f"form save: POST {path}, {len(fields) + 1} fields" + (
                f" (left out: {', '.join(dropped)})" if dropped else ""
            )
            template = path.replace(seed["target_id"], "{user_id}")

            def fresh_args(drop_stale=drop_stale, template=template) -> list[str]:
                # wrk replays one cookie: log in anew before each run, so the console's once-a-minute
                # session renewal (webapp/web/auth.py) does not fire on every request of a later run.
                session = web_session(base, routes)
                page_url, form = edit_form(session, base, routes, seed["target_id"])
                fields, name = form_save_fields(form, drop_stale=drop_stale)
                cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
                return [template, ",".join(seed["target_ids"]), urlencode(fields), name, cookie, base, page_url]

            return Target("form", "form_save.lua", fresh_args(), 303, True, refresh=fresh_args), note
        tried.append(f"{'without' if drop_stale else 'with'} the page's version/original fields: {statuses}")
    return None, (
        "form save: not usable — two saves from one page answered "
        + "; ".join(tried)
        + " (expected 303, 303 and the value stored); adjust form_save_fields() in bench/run.py"
    )


# ================================================================================================
# 100,000 users: page and search times
# ================================================================================================

FIRST = (
    "Anna",
    "Hannah",
    "Joanne",
    "Mark",
    "Peter",
    "Maria",
    "Jonas",
    "Ewa",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Sven",
    "Ärger",
    "Zoë",
    "Dmitri",
    "Aiko",
    "Juan",
    "Fatima",
    "Wei",
    "Oskar",
    "Ingrid",
    "Kofi",
    "Priya",
)
LAST = (
    "Smith",
    "Johnson",
    "Nowak",
    "Kowalski",
    "Müller",
    "Svensson",
    "Tanaka",
    "García",
    "Okafor",
    "Chen",
    "Andersson",
    "Rossi",
    "Dubois",
    "Novak",
    "Larsen",
    "Silva",
    "Kim",
    "Patel",
    "Wójcik",
    "O'Brien",
)


def _seed_rows(start: int, count: int, now: datetime):
    """The bulk users start .. start+count-1 as (column names, row tuples), search columns folded."""
    creation_ctx = json.dumps({"channel": "cli", "creator": None, "remote_addr": None, "current_app": None})
    names = (
        "user_id",
        "username",
        "username_search",
        "email",
        "email_search",
        "display_name",
        "display_name_search",
        "first_name",
        "first_name_search",
        "middle_name",
        "middle_name_search",
        "last_name",
        "last_name_search",
        "password_hash",
        "password_is_set",
        "password_must_change",
        "is_super_user",
        "is_active",
        "is_internal",
        "is_locked",
        "creation_ctx",
        "sign_up_time",
        "sign_up_status",
        "approval_status",
        "approval_status_mod_time",
        "version",
    )
    rows = []
    for i in range(start, start + count):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        middle = FIRST[(i * 7) % len(FIRST)] if i % 5 == 0 else None
        username, email, display = f"user{i:07d}", f"{first}.{last}.{i}@example.com".replace("'", ""), f"{first} {last}"
        rows.append(
            (
                new_user_id(),
                username,
                fold(username),
                email,
                fold(email),
                display,
                fold(display),
                first,
                fold(first),
                middle,
                fold(middle),
                last,
                fold(last),
                None,
                False,
                False,
                False,
                True,
                False,
                i % 97 == 0,
                creation_ctx,
                now,
                "final",
                "approved",
                now,
                1,
            )
        )
    return names, rows


def bulk_insert_users(engine, start: int, count: int) -> float:
    """Insert users straight into sso_user: COPY on PostgreSQL, one executemany transaction on SQLite.

    The search columns are folded as the app folds them; the trigram indexes follow by themselves
    (PostgreSQL GIN; SQLite's FTS5 table through its triggers). Returns the seconds taken."""
    started = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None)
    chunk = 100_000
    with writing(engine) as conn:
        raw = conn.connection.driver_connection
        for offset in range(start, start + count, chunk):
            names, rows = _seed_rows(offset, min(chunk, start + count - offset), now)
            if engine.dialect.name == "postgresql":
                with raw.cursor() as cursor, cursor.copy(f"COPY sso_user ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                stamp = now.isoformat(sep=" ", timespec="microseconds")
                rows = [tuple(stamp if v is now else int(v) if isinstance(v, bool) else v for v in row) for row in rows]
                raw.executemany(
                    f"INSERT INTO sso_user ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows
                )
    with writing(engine) as conn:
        conn.execute(text("ANALYZE sso_user" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - started


def seed_history(engine, source_id: str, user_id: str, count: int = HISTORY_RECORDS) -> int:
    """Give `user_id` `count` audit records: copies of `source_id`'s latest real ones (the updates of the
    run, repeated if there are fewer), each pointed at `user_id`. Returns how many records `user_id` has."""
    with writing(engine) as conn:
        rows = (
            conn.execute(select(audit).where(audit.c.target_id == source_id).order_by(audit.c.id.desc()).limit(count))
            .mappings()
            .all()
        )
        have = conn.execute(select(func.count()).select_from(audit).where(audit.c.target_id == user_id)).scalar_one()
        wanted = max(0, count - have)
        copies = [  # the real records over again until there are enough
            {**{k: v for k, v in rows[i % len(rows)].items() if k != "id"}, "target_id": user_id}
            for i in range(wanted if rows else 0)
        ]
        if copies:
            conn.execute(audit.insert(), copies)
        return have + len(copies)


def measure_export(server: Node, db: Database, routes: Routes, seed: dict, notes: list[str]) -> list[dict[str, Any]]:
    """The history download (Manage user -> history as CSV / JSON lines, streamed) of a user with
    EXPORT_RECORDS audit records, over HTTP: seconds, bytes and the serving worker's peak RSS (each worker's
    high-water mark reset first through /proc/<pid>/clear_refs, read back from VmHWM)."""
    started = time.perf_counter()
    records = seed_history(db.engine, seed["target_id"], seed["export_id"], EXPORT_RECORDS)
    print(f"  export: {records:,} audit records for one user in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        web = web_session(server.url, routes)
    except (WebUnavailable, requests.RequestException) as e:
        notes.append(f"{db.name}: export skipped ({e})")
        return []
    out = []
    for fmt in ("csv", "jsonl"):
        before = {pid: server.worker_peak_rss(pid, reset=True) for pid in server.worker_pids()}
        started = time.perf_counter()
        answer = web.get(f"{server.url}/users/{seed['export_id']}/history.{fmt}", timeout=600, stream=True)
        size = sum(len(chunk) for chunk in answer.iter_content(256 * 1024))
        seconds = time.perf_counter() - started
        peaks = {pid: server.worker_peak_rss(pid) for pid in before}
        row = {
            "db": db.name,
            "format": fmt,
            "records": records,
            "status": answer.status_code,
            "seconds": round(seconds, 2),
            "mib": round(size / 2**20, 1),
            "records_per_s": round(records / seconds) if seconds else None,
            "peak_rss_mib": max(peaks.values(), default=None),
            "rss_before_mib": max(before.values(), default=None),
        }
        out.append(row)
        print(
            f"  export {fmt:<5} {records:,} records: status {answer.status_code}, {seconds:.2f} s, {row['mib']} MiB, "
            f"worker peak RSS {row['peak_rss_mib']} MiB (before {row['rss_before_mib']})",
            flush=True,
        )
    return out


def time_requests(session: requests.Session, method: str, url: str, **kwargs) -> dict[str, Any]:
    """Median / p95 / max of TIMED_REQUESTS sequential requests (after three warm-ups), in ms."""
    first = None
    for _ in range(3):
        first = session.request(method, url, timeout=60, **kwargs)
    if first is None or first.status_code != 200:
        status, text = (first.status_code, first.text[:200]) if first is not None else ("?", "")
        return {"error": f"status {status}: {text}"}
    times = []
    for _ in range(TIMED_REQUESTS):
        started = time.perf_counter()
        answer = session.request(method, url, timeout=60, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            return {"error": f"status {answer.status_code} during timing"}
    times.sort()
    result = {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 2),
        "max_ms": round(times[-1], 2),
        "bytes": len(first.content),
    }
    try:
        body = first.json()
        if isinstance(body, dict) and "total" in body:
            result["total"] = body["total"]
            result["total_is_capped"] = body.get("total_is_capped", False)
    except ValueError:
        pass
    return result


def measure_scale(server: Node, db: Database, routes: Routes, seed: dict, scales: list[int]) -> list[dict[str, Any]]:
    """Page and search times with each number of extra users in the table (added up to each in turn)."""
    out: list[dict[str, Any]] = []
    present = 0
    history_records = seed_history(db.engine, seed["target_id"], seed["history_id"])
    for scale in scales:
        seconds = bulk_insert_users(db.engine, present, scale - present)
        print(f"  inserted {scale - present:,} users in {seconds:.1f} s (now {scale:,} extra)", flush=True)
        present = scale
        _, records = target_state(db.engine, [seed["target_id"]])
        context = f"{scale:,} extra users; the edited user has {records:,} audit records"

        def add(what: str, result: dict[str, Any], scale=scale, context=context) -> None:
            out.append({"db": db.name, "users": scale, "what": what, "context": context, **result})
            shown = (
                result.get("error")
                or result.get("skipped")
                or (
                    f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms"
                    + (
                        f", total {result['total']:,}{'+' if result.get('total_is_capped') else ''}"
                        if "total" in result
                        else ""
                    )
                )
            )
            print(f"  {scale:>9,} {what:<46} {shown}", flush=True)

        if routes.api_search:
            api = requests.Session()
            api.headers["Authorization"] = f"Bearer {seed['ust']}"
            search = server.url + routes.api_search
            first_page = api.get(search, params={"current_app": API_APP, "q": "ann"}, timeout=60).json()
            for what, params in (
                ("API search: q contains 'ann'", {"q": "ann"}),
                (
                    "API search: q contains 'ann', next page by key",
                    {"q": "ann", "after": first_page.get("next_after") or ""},
                ),
                ("API search: display_name contains 'son'", {"display_name": "son", "is_name_exact": "false"}),
                ("API search: q contains '0054321' (one match)", {"q": "0054321"}),
                ("API search: username exact", {"username": "USER0054321"}),
                ("API search: everyone, page 2", {"cur_page": "2"}),
            ):
                add(what, time_requests(api, "GET", search, params={"current_app": API_APP, **params}))
        try:
            web = web_session(server.url, routes)
        except (WebUnavailable, requests.RequestException) as e:
            add("web pages", {"skipped": f"web console not available ({e})"})
            continue
        pages = [
            ("page: My account", routes.account),
            (
                f"page: Manage user ({history_records} audit records)",
                routes.edit.format(user_id=seed["history_id"]) if routes.edit else None,
            ),
            (
                "page: user list, search 'ann'",
                f"{routes.user_list}?{urlencode({LIST_QUERY_PARAM: 'ann'})}" if routes.user_list else None,
            ),
            ("page: user list", routes.user_list),
        ]
        for what, path in pages:
            if path is None:
                add(what, {"skipped": "route not found in the url map"})
            else:
                add(what, time_requests(web, "GET", server.url + path))
    return out


# ================================================================================================
# The run
# ================================================================================================


def open_databases(names: list[str]):
    """Yield each database in turn; its server (PostgreSQL) runs only while it is benchmarked."""
    for name in names:
        if name == "sqlite":
            directory = tempfile.mkdtemp(prefix="sso-bench-")
            try:
                yield Database("sqlite", f"sqlite:///{directory}/sso.db")
            finally:
                shutil.rmtree(directory, ignore_errors=True)
        elif name == "postgresql":
            try:
                pg = PostgresServer().start()
            except PostgresUnavailable as e:
                print(f"PostgreSQL: skipped ({e})")
                continue
            try:
                yield Database("postgresql", pg.create_database("sso_bench"))
            finally:
                pg.stop()
        else:
            raise SystemExit(f"unknown database {name!r} (sqlite, postgresql)")


def measure(
    server: Node, db: Database, seed: dict, target: Target, connections: int, args, notes: list[str]
) -> dict[str, Any]:
    """One warmed-up wrk run, checked against the writes it made; with the workers' CPU per request."""
    server = target.node or server
    if target.refresh is not None:
        target.args = target.refresh()
    run_wrk(server, target, connections, WARMUP_SECONDS)
    before = settled_state(db.engine, seed["target_ids"])
    cpu_before = server.worker_cpu_seconds()
    result = run_wrk(server, target, connections, args.duration)
    after = settled_state(db.engine, seed["target_ids"])
    cpu = server.worker_cpu_seconds() - cpu_before
    successes = result["requests"] - result["unexpected_status"]
    row = {
        "target": target.name,
        "db": db.name,
        "connections": connections,
        "users": args.spread,
        **result,
        "writes": after[0] - before[0] if target.writes_version else None,
        "audit_records": after[1] - before[1],
        # Both workers' CPU over the run (and the drain) per request wrk counted: what a request costs the
        # server whatever else the machine is doing (wrk and PostgreSQL are not in it).
        "cpu_ms_per_request": round(1000 * cpu / result["requests"], 3) if result["requests"] else None,
        "load_average": round(os.getloadavg()[0], 2),
    }
    # Requests still in flight when wrk stops are not counted by wrk but do complete.
    if target.writes_version and not successes <= row["writes"] <= successes + connections:
        notes.append(
            f"{db.name} {target.name} c={connections}: {successes} successes but the version moved by {row['writes']}"
        )
    if result["unexpected_status"]:
        notes.append(
            f"{db.name} {target.name} c={connections}: {result['unexpected_status']} of "
            f"{result['requests']} responses unexpected, the first one {result['first_unexpected_status']}"
        )
    return row


def inprocess_calls(app, seed: dict, routes: Routes) -> dict[str, Callable[[int], Any]]:
    """The bench's kinds of request through app.test_client(), each checked: name -> call(i)."""
    calls: dict[str, Callable[[int], Any]] = {}

    def checked(response, status: int | tuple[int, ...] = 200):
        if response.status_code not in (status if isinstance(status, tuple) else (status,)):
            raise RuntimeError(
                f"in-process request answered {response.status_code}, not {status}: "
                f"{response.get_data(as_text=True)[:300]}"
            )
        return response

    api = app.test_client()
    body = {"ust": seed["ust"], "current_app": API_APP, "user_id": seed["target_id"]}
    if routes.api_update:
        calls["api"] = lambda i: checked(
            api.patch(routes.api_update, json={**body, "display_name": f"ip-{uuid.uuid4().hex[:6]}-{i}"})
        )
    if routes.api_login:
        calls["login"] = lambda i: checked(
            api.post(routes.api_login, json={"username": SUPER_USER, "password": PASSWORD, "current_app": API_APP})
        )
    if routes.web_login and routes.edit:
        web = app.test_client()
        page = checked(web.get(routes.web_login)).get_data(as_text=True)
        login_form = next(f for f in all_forms(page) if "password" in types_of(f).values())
        checked(
            web.post(
                login_form.action or routes.web_login,
                data=MultiDict(web_login_fields(login_form, SUPER_USER, PASSWORD)),
            ),
            (302, 303),
        )
        edit = routes.edit.format(user_id=seed["target_id"])
        form = next(
            f
            for f in all_forms(checked(web.get(edit)).get_data(as_text=True))
            if f.method.lower() == "post" and DISPLAY_NAME_FIELD in types_of(f)
        )
        fields, name = form_save_fields(form, drop_stale=True)
        calls["form"] = lambda i: checked(
            web.post(form.action or edit, data=MultiDict([*fields, (name, f"ip-{uuid.uuid4().hex[:6]}-{i}")])), 303
        )
        with app.test_request_context():
            for label, endpoint, with_id, query in CONSOLE_PAGES:
                try:
                    path = url_for(endpoint, user_id=seed["target_id"]) if with_id else url_for(endpoint)
                except BuildError:
                    continue
                url = f"{path}?{query}" if query else path
                calls[label] = lambda i, url=url: checked(web.get(url))
    return calls


def bare_call(db_url: str, user_id: str) -> tuple[Any, Callable[[int], Any]]:
    """The bare reference (bench/bare_wsgi.py) in-process on the same database, writing to `user_id`:
    (its module, call(i))."""
    import importlib

    os.environ["DATABASE_URL"] = db_url
    name = "bare_wsgi"  # bench/ is sys.path[0]
    module = importlib.reload(sys.modules[name]) if name in sys.modules else importlib.import_module(name)
    client = module.app.test_client()

    def call(i: int):
        answer = client.patch(f"/users/{user_id}", json={"display_name": f"bare-{uuid.uuid4().hex[:6]}-{i}"})
        if answer.status_code != 200:
            raise RuntimeError(f"bare reference in-process answered {answer.status_code}: {answer.get_data()[:200]!r}")
        return answer

    return module, call


def two_nodes(db: Database, env: dict[str, str], seed: dict, args, notes: list[str]) -> dict[str, Any]:
    """Two gunicorn processes (2 workers each) on one database, wrk against each at once: every
    acknowledged write present (versions and audit records), and throughput against one node."""
    connections = args.connections[0]
    target = Target("api", "api_update.lua", [seed["ust"], ",".join(seed["target_ids"]), API_APP], 200, True)
    with (
        Node(env, f"{db.name}-node1", port=port_for(args, 2)) as one,
        Node(env, f"{db.name}-node2", port=port_for(args, 3)) as two,
    ):
        single = measure(one, db, seed, target, connections, args, notes)
        before = settled_state(db.engine, seed["target_ids"], at_least=0)
        commands = []
        for node in (one, two):
            env_run = {**os.environ, "BENCH_RUN": uuid.uuid4().hex[:8]}
            commands.append(
                subprocess.Popen(
                    [
                        "wrk",
                        "-t2",
                        f"-c{connections}",
                        f"-d{max(1, round(args.duration))}s",
                        "--timeout",
                        "10s",
                        "-s",
                        target.script,
                        node.url,
                        "--",
                        *target.args,
                    ],
                    cwd=BENCH,
                    env=env_run,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        results = []
        for command in commands:
            out, err = command.communicate(timeout=args.duration + 120)
            line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
            if line is None:
                raise RuntimeError(f"wrk failed: {out[-1000:]} {err[-1000:]}")
            results.append(json.loads(line.removeprefix("BENCH_JSON ")))
        after = settled_state(db.engine, seed["target_ids"])
    acknowledged = sum(r["requests"] - r["unexpected_status"] for r in results)
    writes, records = after[0] - before[0], after[1] - before[1]
    result = {
        "db": db.name,
        "connections_per_node": connections,
        "single_node_rps": single["rps"],
        "two_nodes_rps": round(sum(r["rps"] for r in results), 1),
        "acknowledged": acknowledged,
        "versions_moved": writes,
        "audit_records": records,
        "every_acknowledged_write_present": acknowledged <= writes == records <= acknowledged + 2 * connections,
        "unexpected": sum(r["unexpected_status"] for r in results),
        "p99_ms": [r["p99_ms"] for r in results],
    }
    result["scaling"] = round(result["two_nodes_rps"] / single["rps"], 2) if single["rps"] else None
    print(
        f"  two nodes: {result['two_nodes_rps']} req/s together vs {single['rps']:.1f} for one "
        f"(x{result['scaling']}); {acknowledged} acknowledged, versions moved {writes}, audit records {records}: "
        + ("every acknowledged write present" if result["every_acknowledged_write_present"] else "WRITES MISSING"),
        flush=True,
    )
    return result


def bench_database(db: Database, args, secret: str, fernet_key: str) -> dict[str, Any]:
    config = app_config(db.url, secret, fernet_key)
    app, seed = prepare(db, config, args.spread)
    db.engine = make_engine(db.url)
    routes = find_routes(app)
    notes = [f"{db.name}: {n}" for n in routes.notes]
    env = {
        "DATABASE_URL": db.url,
        "SECRET_KEY": secret,
        "SSO_FERNET_KEYS": fernet_key,
        "SSO_APPS": f"{API_APP},Console",
        "SSO_LOGIN_MAX_FAILURES": "0",
        "SSO_SCIM_RATE_LIMIT": SCIM_BENCH_RATE,
        "SSO_SCRYPT_N": str(app.config["SSO_SCRYPT_N"]),
    }
    out: dict[str, Any] = {
        "runs": [],
        "pages": [],
        "profiles": [],
        "memory": {},
        "nodes": None,
        "export": [],
        "parts": [],
        "scrypt_n": app.config["SSO_SCRYPT_N"],
    }
    bare_node = (
        Node({"DATABASE_URL": db.url}, f"{db.name}-bare", preload=args.preload, port=port_for(args, 1), app=BARE_APP)
        if "bare" in args.targets
        else nullcontext()
    )
    with Node(env, db.name, preload=args.preload, port=port_for(args, 0)) as server, bare_node as bare:
        targets: list[Target] = []
        if bare is not None:
            probe = requests.patch(
                f"{bare.url}/users/{seed['target_id']}", json={"display_name": "bare-probe"}, timeout=10
            )
            if probe.status_code != 200 or display_name_of(db.engine, seed["target_id"]) != "bare-probe":
                raise RuntimeError(f"bare reference answered {probe.status_code}: {probe.text[:300]}")
            out["memory"]["bare_after_start"] = bare.worker_memory()
            targets.append(Target("bare", "bare.lua", [",".join(seed["target_ids"])], 200, True, node=bare))
        probe = requests.post(f"{server.url}/bench/reference?user_id={seed['target_id']}", data="probe", timeout=10)
        if probe.status_code != 200 or display_name_of(db.engine, seed["target_id"]) != "probe":
            raise RuntimeError(f"reference endpoint answered {probe.status_code}: {probe.text[:300]}")
        out["memory"]["after_start"] = server.worker_memory()
        if "reference" in args.targets:
            targets.append(Target("reference", "reference.lua", [",".join(seed["target_ids"])], 200, False))
        if "api" in args.targets and routes.api_update:
            answer = requests.patch(
                server.url + routes.api_update,
                timeout=10,
                json={
                    "ust": seed["ust"],
                    "current_app": API_APP,
                    "user_id": seed["target_id"],
                    "display_name": "api-probe",
                },
            )
            if answer.status_code == 200 and display_name_of(db.engine, seed["target_id"]) == "api-probe":
                targets.append(
                    Target("api", "api_update.lua", [seed["ust"], ",".join(seed["target_ids"]), API_APP], 200, True)
                )
            else:
                notes.append(f"{db.name}: JSON update: probe answered {answer.status_code}: {answer.text[:200]}")
        scim_token = scim_client(app, seed, API_APP) if "scim" in args.targets else None
        if scim_token:  # the SCIM PATCH (issue 28), compared with the JSON update above
            found = scim_target(
                server.url, scim_token, seed, lambda user_id: display_name_of(db.engine, user_id), Target, notes
            )
            targets += [found] if found else []
        if "form" in args.targets:
            form, note = form_target(server.url, routes, seed, db.engine)
            print(note)
            notes.append(f"{db.name}: {note}")
            if form:
                targets.append(form)
        login = (
            Target("login", "login.lua", [SUPER_USER, PASSWORD, API_APP], 200, False)
            if "login" in args.targets and routes.api_login
            else None
        )

        for connections in args.connections:
            tries: dict[str, list[dict[str, Any]]] = {target.name: [] for target in targets}
            for _round in range(args.repeat):  # interleaved, so a busy moment hits every target alike
                for target in targets:
                    row = measure(server, db, seed, target, connections, args, notes)
                    tries[target.name].append(row)
                    print(
                        f"  {target.name:<9} {db.name:<10} c={connections:<3} {row['rps']:8.1f} req/s  "
                        f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
                        f"unexpected {row['unexpected_status']}",
                        flush=True,
                    )
            for rows in tries.values():
                best = max(rows, key=lambda r: r["rps"])
                out["runs"].append({**best, "rps_all_tries": [r["rps"] for r in rows]})
        out["memory"]["after_load"] = server.worker_memory()
        if bare is not None:
            out["memory"]["bare_after_load"] = bare.worker_memory()
        print(
            "  worker memory after the update/form load: "
            + ", ".join(f"RSS {m['rss_mib']} / PSS {m['pss_mib']} MiB" for m in out["memory"]["after_load"]),
            flush=True,
        )
        if login is not None:  # once, at the first connection count: every login is a full scrypt
            row = measure(server, db, seed, login, args.connections[0], args, notes)
            out["runs"].append({**row, "scrypt_n": app.config["SSO_SCRYPT_N"]})
            print(
                f"  login     {db.name:<10} c={args.connections[0]:<3} {row['rps']:8.1f} req/s  "
                f"p50 {row['p50_ms']:6.1f} ms  "
                f"p99 {row['p99_ms']:6.1f} ms  (scrypt N={app.config['SSO_SCRYPT_N']})",
                flush=True,
            )
            server.wait_idle()  # logins still hashing when wrk stopped finish first (a hash holds 128 MiB)
            out["memory"]["after_logins"] = server.worker_memory()
            print(
                "  worker memory after the logins (settled): "
                + ", ".join(f"RSS {m['rss_mib']} / PSS {m['pss_mib']} MiB" for m in out["memory"]["after_logins"]),
                flush=True,
            )
        if "export" in args.targets:
            out["export"] = measure_export(server, db, routes, seed, notes)
        if args.scale:
            out["pages"] = measure_scale(server, db, routes, seed, args.scale)
            out["memory"]["after_scale"] = server.worker_memory()
    if args.profile:
        try:
            calls = inprocess_calls(app, seed, routes)
            if scim_token:  # right after the JSON update, so the two are measured at the same moment
                ordered = list(calls.items())
                at = next((i + 1 for i, (name, _) in enumerate(ordered) if name == "api"), len(ordered))
                calls = dict([*ordered[:at], ("scim", scim_call(app, seed, scim_token)), *ordered[at:]])
            engines = {}
            if "bare" in args.targets:
                bare_module, calls["bare"] = bare_call(db.url, seed["target_ids"][-1])
                engines["bare"] = bare_module.engine
                calls = {"bare": calls.pop("bare"), **calls}
            out["profiles"] = profile_requests(
                calls, app, db.name, seconds=2 if args.duration <= 3 else 4, profiled=PROFILED, engines=engines
            )
            if "bare" in engines:
                engines["bare"].dispose()
            for profile in out["profiles"]:
                print_profile(profile)
        except Exception as e:  # the figures above stand without the profile
            notes.append(f"{db.name}: profile failed: {e!r}")
            print(f"profile failed: {e!r}")
    if any(part in args.targets for part in PARTS):
        print(f"  Part III's new parts ({db.name}, in-process unless said):", flush=True)
        out["parts"] = run_parts(app, db.name, db.url, seed, args, notes)
    if args.nodes and db.name == "postgresql" and "api" in [t.name for t in targets]:
        out["nodes"] = two_nodes(db, env, seed, args, notes)
    app.extensions["sso_engine"].dispose()
    db.engine.dispose()
    out["notes"] = notes
    return out


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


def port_for(args, offset: int) -> int | None:
    """--port-base + offset (0 the app node, 1 the bare reference, 2 and 3 the two nodes), else a free port."""
    return args.port_base + offset if args.port_base else None


def add_ratios(runs: list[dict[str, Any]]) -> None:
    """Each run's req/s over the in-app reference's and over the bare reference's (same database and
    connections, same run); and its CPU per request over the bare one's."""
    reference = {(r["db"], r["connections"]): r["rps"] for r in runs if r["target"] == "reference"}
    bare = {(r["db"], r["connections"]): r for r in runs if r["target"] == "bare"}
    for r in runs:
        base = reference.get((r["db"], r["connections"]))
        r["ratio_to_reference"] = round(r["rps"] / base, 3) if base else None
        floor = bare.get((r["db"], r["connections"]))
        r["ratio_to_bare"] = round(r["rps"] / floor["rps"], 3) if floor else None
        r["cpu_vs_bare"] = (
            round(r["cpu_ms_per_request"] / floor["cpu_ms_per_request"], 2)
            if floor and floor.get("cpu_ms_per_request") and r.get("cpu_ms_per_request")
            else None
        )
        r["ok_rps"] = round((r["requests"] - r["unexpected_status"]) / r["duration_s"], 1)


def print_table(runs: list[dict[str, Any]]) -> None:
    header = (
        f"{'target':<10} {'db':<11} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'unexpect':>8} {'sockerr':>7} {'vs bare':>7} {'vs ref':>7} {'cpu ms':>7} {'xbare':>6} "
        f"{'load':>5}"
    )
    print("\n" + header)
    print("-" * len(header))
    order = {"bare": 0, "reference": 1}
    for r in sorted(
        runs, key=lambda r: (r["db"] != "sqlite", r["connections"], order.get(r["target"], 2), r["target"])
    ):
        errors = sum(r["socket_errors"].values())

        def pct(value):
            return f"{100 * value:.0f}%" if value is not None else "-"

        cpu = r.get("cpu_ms_per_request")
        print(
            f"{r['target']:<10} {r['db']:<11} {r['connections']:>5} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} "
            f"{r['p99_ms']:>8.2f} {r['non_2xx_3xx']:>8} {r['unexpected_status']:>8} {errors:>7} "
            f"{pct(r.get('ratio_to_bare')):>7} {pct(r['ratio_to_reference']):>7} "
            f"{cpu if cpu is not None else '-':>7} {r.get('cpu_vs_bare') or '-':>6} {r.get('load_average', '-'):>5}"
        )
    print(
        "non-2xx = wrk's count of 4xx/5xx; unexpect = any status but the target's success (200, or 303 for the form);\n"
        "vs bare / vs ref = req/s over the bare reference's (bench/bare_wsgi.py: a minimal Flask + Core app) / the\n"
        "in-app reference's, same database and connections; cpu ms = both workers' CPU per request; xbare = that\n"
        "over the bare reference's; load = the 1-minute load average when the run ended"
    )
    spread = {r["users"] for r in runs}
    print(
        "writes go to "
        + (", ".join(f"{n} users round-robin" for n in spread) if spread != {1} else "one target user (one hot row)")
    )


def print_pages(pages: list[dict[str, Any]]) -> None:
    if not pages:
        return
    scales = sorted({p["users"] for p in pages})
    dbs = [d for d in ("sqlite", "postgresql") if any(p["db"] == d for p in pages)]
    columns = [(d, n) for d in dbs for n in scales]
    header = f"{'median ms (p95)':<48}" + "".join(f"{d[:6] + ' ' + format(n, ','):>20}" for d, n in columns)
    print("\n" + header + "\n" + "-" * len(header))
    for what in dict.fromkeys(p["what"] for p in pages):
        cells = []
        for d, n in columns:
            found = next((p for p in pages if p["db"] == d and p["users"] == n and p["what"] == what), None)
            cells.append(
                "-" if found is None or "median_ms" not in found else f"{found['median_ms']} ({found['p95_ms']})"
            )
        print(f"{what:<48}" + "".join(f"{c:>20}" for c in cells))


# (target, label, the run's ratio key, floor): issue 30 measures against the bare reference.
TARGETS = (
    ("api", "JSON update >= 0.55 of the bare reference", "ratio_to_bare", 0.55),
    ("form", "form save >= 0.40 of the bare reference", "ratio_to_bare", 0.40),
)


def print_targets(report: dict[str, Any]) -> list[str]:
    """The issue's targets against this run: met or not, by how much."""
    lines = []
    for name, label, key, floor in TARGETS:
        for r in (r for r in report["runs"] if r["target"] == name and r.get(key) is not None):
            ratio = r[key]
            lines.append(
                f"{label}: {r['db']} c={r['connections']}: {ratio:.2f} "
                + ("met" if ratio >= floor else f"NOT met (short by {floor - ratio:.2f})")
            )
    for r in (r for r in report["runs"] if r["connections"] == 8 and r["target"] in ("api", "form")):
        lines.append(
            f"p99 <= 25 ms at 8 connections: {r['target']} {r['db']}: {r['p99_ms']:.1f} ms "
            + ("met" if r["p99_ms"] <= 25 else f"NOT met (+{r['p99_ms'] - 25:.1f} ms)")
        )
    for profile in report["profiles"]:
        trips = profile["per_request"]
        if profile["target"] == "form" or profile["target"].startswith("page: "):
            reads, writes = trips["reads"] or 0, trips["writes"] or 0
            lines.append(
                f"<= 1 read and <= 1 write transaction per request: {profile['target']} {profile['db']}: "
                f"{reads:g} read, {writes:g} write "
                + (
                    "met"
                    if reads <= 1 and writes <= 1
                    else f"NOT met ({reads + writes - min(reads, 1) - min(writes, 1):g} too many)"
                )
            )
    biggest = max((p["users"] for p in report["pages"]), default=None)
    for p in (p for p in report["pages"] if p["users"] == biggest and "median_ms" in p):
        limit = 10 if p["what"].startswith("page:") else 50  # pages < 10 ms (issue 30), API searches < 50
        lines.append(
            f"{p['what']} at {biggest:,} users, {p['db']}: {p['median_ms']} ms median (< {limit}) "
            + ("met" if p["median_ms"] < limit else f"NOT met (+{p['median_ms'] - limit:.1f} ms)")
        )
    for db, memory in report["memory"].items():
        for m in memory.get("bare_after_load", []):
            lines.append(
                f"(the bare reference's worker after its load, {db}: RSS {m['rss_mib']} / PSS {m['pss_mib']} MiB)"
            )
        for when in ("after_load", "after_logins", "after_scale"):
            for m in memory.get(when, []):
                lines.append(
                    f"worker RSS <= 65 MiB {when.replace('_', ' ')}, {db}: {m['rss_mib']} MiB (PSS {m['pss_mib']}) "
                    + ("met" if m["rss_mib"] <= 65 else f"NOT met (+{m['rss_mib'] - 65:.1f} MiB)")
                )
    for e in report.get("export", []):
        lines.append(
            f"history download of a user with {e['records']:,} audit records, {e['format']}, {e['db']}: status "
            f"{e['status']}, {e['seconds']} s ({e['records_per_s']:,} records/s, {e['mib']} MiB), worker peak RSS "
            f"{e['peak_rss_mib']} MiB (before {e['rss_before_mib']}; no target: measured)"
        )
    for part in report.get("parts", []):
        lines.append(describe(part))
    lines += scim_lines(report)
    print("\ntargets (issue 30):\n  " + "\n  ".join(lines))
    return lines


def print_comparison(report: dict[str, Any], previous_path: str) -> None:
    previous = json.loads(Path(previous_path).read_text())
    print(
        f"\ncompared with {previous_path} ({previous.get('meta', {}).get('time')}, "
        f"commit {previous.get('meta', {}).get('commit')}):"
    )
    old_runs = {(r["target"], r["db"], r["connections"]): r for r in previous.get("runs", [])}
    for r in report["runs"]:
        old = old_runs.get((r["target"], r["db"], r["connections"]))
        if old:
            ratio = (
                f"  ratio {old.get('ratio_to_reference') or 0:.2f} -> {r.get('ratio_to_reference') or 0:.2f}"
                if r["target"] != "reference"
                else ""
            )
            print(
                f"  {r['target']:<9} {r['db']:<10} c={r['connections']:<3} {old['rps']:8.1f} -> {r['rps']:8.1f} req/s "
                f"(x{r['rps'] / old['rps']:.2f}), p99 {old['p99_ms']:.1f} -> {r['p99_ms']:.1f} ms{ratio}"
            )
    old_pages = {
        (p["db"], p.get("users", 100_000), p["what"].split(" [")[0].replace("Manage user list", "user list")): p
        for p in previous.get("pages", [])
    }
    for p in report["pages"]:
        old = old_pages.get((p["db"], p["users"], p["what"]))
        if old and "median_ms" in old and "median_ms" in p:
            print(
                f"  {p['what']:<48} {p['db']:<10} {p['users']:>9,}  {old['median_ms']:7.2f} -> {p['median_ms']:7.2f} ms"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 s per wrk run")
    parser.add_argument("--connections", default="8,32", help="comma-separated (default 8,32)")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument(
        "--targets",
        default=",".join(("bare", "reference", "api", "scim", "form", "login", "export", *PARTS)),
        help="comma-separated: bare, reference, api, scim, form, login, export (the 100,000-record history download), "
        + ", ".join(PARTS)
        + " (bench/parts.py)",
    )
    parser.add_argument(
        "--only",
        help="run only these parts (comma-separated): any of --targets, or scale, profile, nodes; "
        "e.g. --only roles or --only api,profile (each alone in about a minute with --quick)",
    )
    parser.add_argument("--rounds", type=int, default=15, help="in-process parts: interleaved rounds (best kept)")
    parser.add_argument("--per-round", type=int, default=40, help="in-process parts: requests per round")
    parser.add_argument("--sign-ins", type=int, default=10, help="passkey part: password sign-ins (x5 passkey ones)")
    parser.add_argument("--messages", type=int, default=1000, help="outbox part: messages queued")
    parser.add_argument(
        "--export-records", type=int, default=EXPORT_RECORDS, help="data-export part: the user's audit records"
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=0,
        help="listen on PORT (the app), PORT+1 (the bare reference), PORT+2/+3 (two nodes) instead of free ports",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each target N times, interleaved, and keep the best (for a busy machine)",
    )
    parser.add_argument(
        "--spread",
        type=int,
        default=64,
        help="write to N target users round-robin (default 64; 1 = every request on one hot row)",
    )
    parser.add_argument(
        "--scale",
        default=",".join(str(n) for n in SCALES),
        help="extra users for the page/search timings, comma-separated (default 100000,1000000)",
    )
    parser.add_argument("--no-scale", dest="scale", action="store_const", const="", help="skip the page/search timings")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the in-process profiles")
    parser.add_argument("--no-nodes", dest="nodes", action="store_false", help="skip the two-node run (PostgreSQL)")
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload (workers share the imported app)")
    parser.add_argument("--compare", help="an earlier run's results file, set beside this run's figures")
    parser.add_argument("--output", default=str(RESULTS / "latest.json"), help="where to write the JSON results")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 3
        args.rounds, args.per_round, args.sign_ins, args.messages = 9, 20, 4, 300
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    args.scale = sorted(int(n) for n in args.scale.split(",") if n.strip())
    if args.only:
        only = {t.strip() for t in args.only.split(",") if t.strip()}
        args.targets = [t for t in only if t not in ("scale", "profile", "nodes")]
        args.scale = args.scale if "scale" in only else []
        args.profile = "profile" in only
        args.nodes = "nodes" in only and "api" in only
    args.password = PASSWORD
    args.fernet_key = None  # set below: the run's key (the outbox part's worker process needs it)
    if shutil.which("wrk") is None:
        print("wrk is not installed: `bash scripts/bootstrap.sh --bench` (or apt-get install -y wrk)", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)

    load_before = os.getloadavg()
    run_started = time.monotonic()
    if load_before[0] > 0.5:
        print(
            f"warning: load average {load_before[0]:.2f} before the run: other work on this machine "
            "will lower and scatter the figures",
            flush=True,
        )
    secret = Fernet.generate_key().decode()
    fernet_key = args.fernet_key = Fernet.generate_key().decode()
    report: dict[str, Any] = {
        "runs": [],
        "pages": [],
        "profiles": [],
        "memory": {},
        "nodes": [],
        "notes": [],
        "export": [],
        "parts": [],
    }
    scrypt = {}
    for db in open_databases([d.strip() for d in args.db.split(",") if d.strip()]):
        print(f"\n== {db.name} ==", flush=True)
        result = bench_database(db, args, secret, fernet_key)
        for key in ("runs", "pages", "profiles", "notes", "export", "parts"):
            report[key] += result[key]
        report["memory"][db.name] = result["memory"]
        scrypt[db.name] = result["scrypt_n"]
        if result["nodes"]:
            report["nodes"].append(result["nodes"])

    add_ratios(report["runs"])
    add_scim_ratios(report["runs"])
    print_table(report["runs"])
    print_pages(report["pages"])
    if report["profiles"]:
        print(
            f"\n{'per request (in-process)':<34} {'db':<11} {'stmts':>6} {'txns':>5} {'reads':>5} {'writes':>6} "
            f"{'auths':>5} {'checkouts':>9} {'ms':>7} {'cpu ms':>7} {'xbare':>6}"
        )
        bare_cpu = {p["db"]: p["cpu_ms"] for p in report["profiles"] if p["target"] == "bare"}
        for profile in report["profiles"]:
            trips = profile["per_request"]
            times = round(profile["cpu_ms"] / bare_cpu[profile["db"]], 1) if bare_cpu.get(profile["db"]) else "-"
            print(
                f"{profile['target']:<34} {profile['db']:<11} {trips['statements']:>6} {trips['transactions']:>5} "
                f"{_or_dash(trips['reads']):>5} {_or_dash(trips['writes']):>6} {trips['authentications']:>5} "
                f"{trips['checkouts']:>9} {profile['request_ms']:>7} {profile['cpu_ms']:>7} {times:>6}"
            )
        print(
            "ms = wall time, cpu ms = this process's CPU per request (the database server's not included);\n"
            "xbare = cpu ms over the bare reference's (bench/bare_wsgi.py in-process, same database)"
        )
    if report["parts"]:
        print("\nPart III's new parts (bench/parts.py; ratio = throughput against the baseline, by CPU per request):")
        for part in report["parts"]:
            print("  " + describe(part))
    if report["notes"]:
        print("\nnotes:\n  " + "\n  ".join(report["notes"]))
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    report["meta"] = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_seconds": round(time.monotonic() - run_started),
        "commit": commit,
        "duration_s": args.duration,
        "connections": args.connections,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "scrypt_n": scrypt,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "wrk": wrk_version[0] if wrk_version else None,
        "server": f"gunicorn -w 2 (sync){' --preload' if args.preload else ''} bench.reference_wsgi:app",
        "target_users": args.spread,
        "repeat": args.repeat,
        "kept": "the try with the highest req/s",
        "postgresql": "private cluster with fsync=off, synchronous_commit=off (tests/pgserver.py)",
        "sqlite": "WAL, synchronous=NORMAL, BEGIN IMMEDIATE for writes (webapp/db.py)",
    }
    report["targets"] = print_targets(report)
    if args.compare:
        print_comparison(report, args.compare)
    print(
        f"\nload average before / after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f} "
        "(other sessions share these 2 cores: read ratios, not absolute figures); "
        f"the run took {report['meta']['run_seconds'] / 60:.1f} min"
    )
    Path(args.output).write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
