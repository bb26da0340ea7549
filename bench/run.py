"""`make bench`: wrk against gunicorn (2 sync workers), on SQLite and on PostgreSQL.

For each database: a fresh migrated database, a super-user and a target user, one gunicorn serving
bench/reference_wsgi.py (the real app plus a bare-UPDATE reference route), then wrk at each
connection count against

  reference   POST /bench/reference            one UPDATE, no session check (the floor)
  api         PATCH /zato/sso/user             the JSON update, a new display name each request
  form        POST <Manage user edit page>     the web console's save, 303 = success

and, with 100,000 users in the table, the time of the My account / Manage user pages and of the
API search. Prints a table and writes bench/results/latest.json.

    .venv/bin/python bench/run.py [--quick] [--duration 10] [--connections 8,32] [--db sqlite,postgresql]
                                  [--targets reference,api,form] [--no-100k] [--profile]
                                  [--repeat N] [--spread N] [--output FILE]

Where the web console's form field names are set: `form_save_fields()` and `web_login_fields()`
below (the only two functions to adjust when the console's forms change).
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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from tests.pgserver import PostgresServer, PostgresUnavailable  # noqa: E402
from tests.server import free_port  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.db import make_engine, reading, writing  # noqa: E402
from webapp.models import audit, users  # noqa: E402
from webapp.schema import upgrade  # noqa: E402
from webapp.sso.attributes import fold  # noqa: E402
from webapp.sso.store import new_user_id  # noqa: E402

from htmlforms import Form, parse_forms  # noqa: E402  (bench/ is sys.path[0])
from update_profile import print_profile, profile_update  # noqa: E402

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
WSGI_APP = "bench.reference_wsgi:app"
API_APP = "CRM"
SUPER_USER = "benchsuper"
TARGET_USER = "benchtarget"
PASSWORD = "Quiet-River-4821"
BULK_USERS = 100_000
TIMED_REQUESTS = 50
WARMUP_SECONDS = 1
DRAIN_SECONDS = 0.5       # requests in flight when wrk stops still complete on the server


# ================================================================================================
# The web console's form field names: the one place to adjust them.
# ================================================================================================

DISPLAY_NAME_FIELD = "display_name"   # the edit form's display-name input
LIST_QUERY_PARAM = "q"                # the Manage-user list's search box
# Fields beside the display-name box (webapp/web/attribute_form/parse.py). Someone typing a new name unticks its
# "clear" box, so CLEAR_FIELDS are always left out. STALE_FIELDS pin a save to the page it came from:
# a second save from the same page is (rightly) a conflict with the first, so the benchmark leaves
# them out when it must; the server then compares with what is stored, as it does for a form without them.
CLEAR_FIELDS = ("clear_{name}",)
STALE_FIELDS = ("version", "original_{name}", "conflict_{name}")


def web_login_fields(form: "Form", username: str, password: str) -> list[tuple[str, str]]:
    """What the /login form posts: its own hidden fields (CSRF token) plus username and password."""
    password_names = {name for name, kind in form.types.items() if kind == "password"}
    password_name = next(iter(password_names), "password")
    username_name = next((name for name in ("username", "login", "user", "email") if name in form.types), "username")
    fields = [(name, value) for name, value in form.fields if name not in (username_name, password_name)]
    return fields + [(username_name, username), (password_name, password)]


def form_save_fields(form: "Form", *, drop_stale: bool) -> tuple[list[tuple[str, str]], str]:
    """The Manage-user save as a browser without JavaScript posts it when only the display name changed.

    Returns (every other field with its value as the page rendered it, the display-name field's name);
    the wrk script appends `<display-name field>=<new value>` to the first part. `drop_stale` leaves out
    the STALE_FIELDS of the display name too (run.py tries with them first, then without).
    """
    name = DISPLAY_NAME_FIELD if DISPLAY_NAME_FIELD in form.types else next(
        (n for n in form.types if n.endswith(DISPLAY_NAME_FIELD)), DISPLAY_NAME_FIELD)
    left_out = {name, *(pattern.format(name=name) for pattern in CLEAR_FIELDS + (STALE_FIELDS if drop_stale else ()))}
    fields = [(n, v) for n, v in form.fields if n not in left_out]
    return fields, name


# ================================================================================================
# Finding the routes the faces expose (they are being built; absent ones are skipped)
# ================================================================================================

@dataclass
class Routes:
    api_update: bool = False
    api_search: bool = False
    web_login: str | None = None
    account: str | None = None
    edit: str | None = None           # with "{user_id}"
    user_list: str | None = None
    notes: list[str] = field(default_factory=list)


_NOT_PAGES = ("static", "zato", "bench", "api", "logout", "password", "history", "activity", "audit",
              "openapi", "lock", "delete", "approve", "partial", "validate", "fragment")


def _is_page(rule) -> bool:
    text_ = (rule.rule + " " + rule.endpoint).lower()
    return "GET" in (rule.methods or ()) and not any(word in text_ for word in _NOT_PAGES)


def find_routes(app, args) -> Routes:
    """The endpoints of the JSON API and the web console that this run can use, from the url map."""
    rules = list(app.url_map.iter_rules())
    found = Routes()
    found.api_update = any(r.rule == "/zato/sso/user" and "PATCH" in (r.methods or ()) for r in rules)
    found.api_search = any(r.rule == "/zato/sso/user/search" and "GET" in (r.methods or ()) for r in rules)
    found.web_login = next((r.rule for r in rules if r.rule == "/login" and "POST" in (r.methods or ())), None)

    accounts = [r for r in rules if _is_page(r) and not r.arguments and "account" in (r.rule + r.endpoint).lower()]
    if accounts:
        found.account = min(accounts, key=lambda r: len(r.rule)).rule

    def edit_score(r) -> int:
        words = (r.rule + " " + r.endpoint).lower()
        return (4 * ("edit" in words) + 2 * ("manage" in words) + 2 * ("POST" in (r.methods or ()))
                + ("user" in words) - len(r.rule) // 40)

    edits = [r for r in rules if _is_page(r) and len(r.arguments) == 1 and "user" in (r.rule + r.endpoint).lower()
             and "account" not in r.rule]
    if edits:
        best = max(edits, key=edit_score)
        (argument,) = best.arguments
        found.edit = best.rule.replace(f"<{argument}>", "{user_id}")
        for converter in ("string", "path", "any"):
            found.edit = found.edit.replace(f"<{converter}:{argument}>", "{user_id}")
        if "<" in found.edit:
            found.notes.append(f"edit route {best.rule} has a converter this script does not expand")
            found.edit = None
        else:
            found.notes.append(f"Manage user edit page: {best.rule} (endpoint {best.endpoint})")

    lists = [r for r in rules if _is_page(r) and not r.arguments and "account" not in r.rule
             and any(w in (r.rule + " " + r.endpoint).lower() for w in ("users", "manage", "search", "list"))]
    if lists:
        found.user_list = min(lists, key=lambda r: len(r.rule)).rule

    found.account = args.account_path or found.account
    found.edit = args.edit_path or found.edit
    found.user_list = args.list_path or found.user_list
    return found


# ================================================================================================
# Database and server
# ================================================================================================

@dataclass
class Database:
    name: str
    url: str
    engine: Any = None


def app_config(url: str, secret: str, fernet_key: str) -> dict[str, Any]:
    return {"DATABASE_URL": url, "SECRET_KEY": secret, "SSO_FERNET_KEYS": [fernet_key],
            "SSO_APPS": [API_APP, "Console"], "SSO_LOGIN_MAX_FAILURES": 0}


def prepare(db: Database, config: dict[str, Any], spread: int):
    """Migrate a fresh database, create the super-user and the target user(s), log in; returns (app, seed)."""
    engine = make_engine(db.url)
    upgrade(engine)
    engine.dispose()
    app = create_app(config)
    sso = app.extensions["sso"]
    super_user = sso.user.create_local(SUPER_USER, PASSWORD, super_user=True)
    target = sso.user.create_local(TARGET_USER, PASSWORD, super_user=False)
    others = [sso.user.create_local(f"{TARGET_USER}{i}", None, super_user=False)["user_id"] for i in range(2, spread + 1)]
    ust = sso.user.login("bench", SUPER_USER, PASSWORD, API_APP, "127.0.0.1").ust
    return app, {"super_user_id": super_user["user_id"], "target_id": target["user_id"],
                 "target_ids": [target["user_id"], *others], "ust": ust}


class Gunicorn:
    """gunicorn -w 2 (sync) serving bench/reference_wsgi.py on a free loopback port."""

    def __init__(self, env: dict[str, str], label: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.log = RESULTS / f"gunicorn-{label}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        self.process = subprocess.Popen(
            [GUNICORN, "-w", "2", "-b", f"127.0.0.1:{self.port}", "--no-control-socket", WSGI_APP],
            cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        try:
            self._wait_until_serving()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}:\n{self.log.read_text()[-3000:]}")
            try:
                requests.get(self.url + "/", timeout=5)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start in time; see {self.log}")

    def worker_rss_mib(self) -> list[float]:
        """Resident memory of each worker (from /proc), in MiB."""
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        sizes = []
        for pid in children:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            sizes.append(round(kib / 1024, 1))
        return sizes

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ================================================================================================
# wrk
# ================================================================================================

@dataclass
class Target:
    name: str
    script: str
    args: list[str]
    success: int
    writes_version: bool     # each success increments the target user's version
    refresh: Callable[[], list[str]] | None = None   # fresh args before each run (the form's cookies)


def run_wrk(server: Gunicorn, target: Target, connections: int, seconds: float) -> dict[str, Any]:
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", target.script, server.url, "--", *target.args]
    env = {**os.environ, "BENCH_RUN": uuid.uuid4().hex[:8]}
    done = subprocess.run(command, cwd=BENCH, env=env, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def target_state(engine, user_ids: list[str]) -> tuple[int, int]:
    """(sum of versions, audit records) of the target users: how many writes really happened."""
    with reading(engine) as conn:
        version = conn.execute(select(func.sum(users.c.version)).where(users.c.user_id.in_(user_ids))).scalar_one()
        records = conn.execute(select(func.count()).select_from(audit)
                               .where(audit.c.target_id.in_(user_ids))).scalar_one()
    return version, records


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
    forms = [f for f in parse_forms(page.text) if "password" in f.types.values()]
    if page.status_code != 200 or not forms:
        raise WebUnavailable(f"GET {routes.web_login} gave {page.status_code} without a password form")
    form = forms[0]
    url = urljoin(page.url, form.action or routes.web_login)
    answer = session.post(url, data=web_login_fields(form, SUPER_USER, PASSWORD), allow_redirects=False,
                          timeout=10, headers={"Origin": base, "Referer": page.url})
    if answer.status_code not in (302, 303) or not session.cookies:
        raise WebUnavailable(f"web login answered {answer.status_code} (expected a redirect and a cookie); "
                             "adjust web_login_fields() in bench/run.py")
    return session


def edit_form(session: requests.Session, base: str, routes: Routes, user_id: str) -> tuple[str, Form]:
    """The Manage-user edit page of `user_id`: (its URL, its form that carries the display name)."""
    if not routes.edit:
        raise WebUnavailable("no Manage user edit route in the url map")
    page_url = base + routes.edit.format(user_id=user_id)
    page = session.get(page_url, timeout=10)
    if page.status_code != 200:
        raise WebUnavailable(f"GET {page_url} gave {page.status_code}")
    forms = [f for f in parse_forms(page.text)
             if f.method == "post" and any(n == DISPLAY_NAME_FIELD or n.endswith(DISPLAY_NAME_FIELD) for n in f.types)]
    if not forms:
        raise WebUnavailable(f"no POST form with a {DISPLAY_NAME_FIELD!r} field on {page_url}; "
                             "adjust DISPLAY_NAME_FIELD / form_save_fields() in bench/run.py")
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
            answer = session.post(post_url, data=fields + [(name, value)], allow_redirects=False, timeout=10,
                                  headers={"Origin": base, "Referer": page_url})
            statuses.append(answer.status_code)
        if statuses == [303, 303] and display_name_of(engine, seed["target_id"]) == value:
            split = urlsplit(post_url)
            path = split.path + (f"?{split.query}" if split.query else "")
            dropped = sorted({n for n, _ in form.fields} - {n for n, _ in fields} - {name})
            note = (f"form save: POST {path}, {len(fields) + 1} fields"
                    + (f" (left out: {', '.join(dropped)})" if dropped else ""))
            template = path.replace(seed["target_id"], "{user_id}")

            def fresh_args(drop_stale=drop_stale) -> list[str]:
                # wrk replays one cookie: log in anew before each run, so the console's once-a-minute
                # session renewal (webapp/web/auth.py) does not fire on every request of a later run.
                session = web_session(base, routes)
                page_url, form = edit_form(session, base, routes, seed["target_id"])
                fields, name = form_save_fields(form, drop_stale=drop_stale)
                cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
                return [template, ",".join(seed["target_ids"]), urlencode(fields), name, cookie, base, page_url]

            return Target("form", "form_save.lua", fresh_args(), 303, True, refresh=fresh_args), note
        tried.append(f"{'without' if drop_stale else 'with'} the page's version/original fields: {statuses}")
    return None, ("form save: not usable — two saves from one page answered " + "; ".join(tried)
                  + " (expected 303, 303 and the value stored); adjust form_save_fields() in bench/run.py")


# ================================================================================================
# 100,000 users: page and search times
# ================================================================================================

FIRST = ("Anna", "Hannah", "Joanne", "Mark", "Peter", "Maria", "Jonas", "Ewa", "Liam", "Olivia", "Noah", "Emma",
         "Sven", "Ärger", "Zoë", "Dmitri", "Aiko", "Juan", "Fatima", "Wei", "Oskar", "Ingrid", "Kofi", "Priya")
LAST = ("Smith", "Johnson", "Nowak", "Kowalski", "Müller", "Svensson", "Tanaka", "García", "Okafor", "Chen",
        "Andersson", "Rossi", "Dubois", "Novak", "Larsen", "Silva", "Kim", "Patel", "Wójcik", "O'Brien")


def bulk_insert_users(engine, count: int, is_postgres: bool) -> float:
    """Insert `count` approved users straight into sso_user (search columns case-folded); seconds taken."""
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    chunk = 10_000
    for start in range(0, count, chunk):
        rows = []
        for i in range(start, min(count, start + chunk)):
            first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
            middle = FIRST[(i * 7) % len(FIRST)] if i % 5 == 0 else None
            values = {"username": f"user{i:06d}", "email": f"{first}.{last}.{i}@example.com".replace("'", ""),
                      "display_name": f"{first} {last}", "first_name": first, "middle_name": middle, "last_name": last}
            row = {"user_id": new_user_id(), "is_super_user": False, "is_active": True, "is_internal": False,
                   "is_locked": i % 97 == 0, "password_hash": None, "password_is_set": False,
                   "password_must_change": False, "sign_up_time": now, "sign_up_status": "final",
                   "approval_status": "approved", "approval_status_mod_time": now, "version": 1,
                   "creation_ctx": {"channel": "cli", "creator": None, "remote_addr": None, "current_app": None}}
            for name, value in values.items():
                row[name] = value
                row[f"{name}_search"] = fold(value)
            rows.append(row)
        with writing(engine) as conn:
            conn.execute(insert(users), rows)
    if is_postgres:
        with writing(engine) as conn:
            conn.execute(text("ANALYZE sso_user"))
    return time.perf_counter() - started


def time_requests(session: requests.Session, method: str, url: str, **kwargs) -> dict[str, Any]:
    """Median / p95 / max of TIMED_REQUESTS sequential requests (after three warm-ups), in ms."""
    first = None
    for _ in range(3):
        first = session.request(method, url, timeout=60, **kwargs)
    if first is None or first.status_code != 200:
        return {"error": f"status {first.status_code if first is not None else '?'}: {first.text[:200] if first is not None else ''}"}
    times = []
    for _ in range(TIMED_REQUESTS):
        started = time.perf_counter()
        answer = session.request(method, url, timeout=60, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            return {"error": f"status {answer.status_code} during timing"}
    times.sort()
    result = {"median_ms": round(statistics.median(times), 2), "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 2),
              "max_ms": round(times[-1], 2), "bytes": len(first.content)}
    try:
        body = first.json()
        if isinstance(body, dict) and "total" in body:
            result["total"] = body["total"]
    except ValueError:
        pass
    return result


def measure_100k(server: Gunicorn, db: Database, routes: Routes, seed: dict) -> list[dict[str, Any]]:
    """Page and search times with 100,000 more users in the table."""
    seconds = bulk_insert_users(db.engine, BULK_USERS, db.name == "postgresql")
    print(f"  inserted {BULK_USERS:,} users in {seconds:.1f} s", flush=True)
    _, records = target_state(db.engine, [seed["target_id"]])
    context = f"{BULK_USERS:,} extra users; the edited user has {records:,} audit records"
    out: list[dict[str, Any]] = []

    def add(what: str, result: dict[str, Any]) -> None:
        out.append({"db": db.name, "what": what, "context": context, **result})
        shown = result.get("error") or result.get("skipped") or (
            f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms"
            + (f", total {result['total']:,}" if "total" in result else ""))
        print(f"  {what:<44} {shown}", flush=True)

    if routes.api_search:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {seed['ust']}"
        search = server.url + "/zato/sso/user/search"
        for what, params in (
                ("API search: q contains 'ann'", {"q": "ann"}),
                ("API search: display_name contains 'son'", {"display_name": "son", "is_name_exact": "false"}),
                ("API search: username exact", {"username": "USER054321"})):
            add(what, time_requests(api, "GET", search, params={"current_app": API_APP, **params}))
    else:
        add("API search", {"skipped": "no GET /zato/sso/user/search in the url map (API not there yet)"})

    try:
        web = web_session(server.url, routes)
    except (WebUnavailable, requests.RequestException) as e:
        add("web pages", {"skipped": f"web console not available yet ({e})"})
        return out
    pages = [("page: My account", routes.account),
             ("page: Manage user (edit target)", routes.edit.format(user_id=seed["target_id"]) if routes.edit else None),
             ("page: Manage user list, search 'ann'",
              f"{routes.user_list}?{urlencode({LIST_QUERY_PARAM: 'ann'})}" if routes.user_list else None)]
    for what, path in pages:
        if path is None:
            add(what, {"skipped": "route not found in the url map"})
        else:
            add(what + f" [{path.split('?')[0]}]", time_requests(web, "GET", server.url + path))
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


def measure(server: Gunicorn, db: Database, seed: dict, target: Target, connections: int, args,
            notes: list[str]) -> dict[str, Any]:
    """One warmed-up wrk run, checked against the writes it made."""
    if target.refresh is not None:
        target.args = target.refresh()
    run_wrk(server, target, connections, WARMUP_SECONDS)
    time.sleep(DRAIN_SECONDS)
    before = target_state(db.engine, seed["target_ids"])
    result = run_wrk(server, target, connections, args.duration)
    time.sleep(DRAIN_SECONDS)
    after = target_state(db.engine, seed["target_ids"])
    successes = result["requests"] - result["unexpected_status"]
    row = {"target": target.name, "db": db.name, "connections": connections, "users": args.spread, **result,
           "writes": after[0] - before[0] if target.writes_version else None, "audit_records": after[1] - before[1]}
    # Requests still in flight when wrk stops are not counted by wrk but do complete.
    if target.writes_version and not successes <= row["writes"] <= successes + connections:
        notes.append(f"{db.name} {target.name} c={connections}: {successes} successes but the "
                     f"version moved by {row['writes']}")
    if result["unexpected_status"]:
        notes.append(f"{db.name} {target.name} c={connections}: {result['unexpected_status']} of "
                     f"{result['requests']} responses unexpected, the first one {result['first_unexpected_status']}")
    return row


def bench_database(db: Database, args, secret: str, fernet_key: str) -> tuple[list, list, list, dict | None]:
    config = app_config(db.url, secret, fernet_key)
    app, seed = prepare(db, config, args.spread)
    db.engine = make_engine(db.url)
    routes = find_routes(app, args)
    notes = [f"{db.name}: {n}" for n in routes.notes]
    env = {"DATABASE_URL": db.url, "SECRET_KEY": secret, "SSO_FERNET_KEYS": fernet_key,
           "SSO_APPS": f"{API_APP},Console", "SSO_LOGIN_MAX_FAILURES": "0"}
    runs: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    with Gunicorn(env, db.name) as server:
        targets: list[Target] = []
        probe = requests.post(f"{server.url}/bench/reference?user_id={seed['target_id']}", data="probe", timeout=10)
        if probe.status_code != 200 or display_name_of(db.engine, seed["target_id"]) != "probe":
            raise RuntimeError(f"reference endpoint answered {probe.status_code}: {probe.text[:300]}")
        if "reference" in args.targets:
            targets.append(Target("reference", "reference.lua", [",".join(seed["target_ids"])], 200, False))
        if "api" in args.targets:
            if routes.api_update:
                answer = requests.patch(server.url + "/zato/sso/user", timeout=10, json={
                    "ust": seed["ust"], "current_app": API_APP, "user_id": seed["target_id"], "display_name": "api-probe"})
                if answer.status_code == 200 and display_name_of(db.engine, seed["target_id"]) == "api-probe":
                    targets.append(Target("api", "api_update.lua", [seed["ust"], ",".join(seed["target_ids"]), API_APP],
                                          200, True))
                else:
                    notes.append(f"{db.name}: JSON update: probe answered {answer.status_code}: {answer.text[:200]}")
                    print(f"JSON update: probe failed ({answer.status_code}); skipped")
            else:
                print("JSON update: not available yet (no PATCH /zato/sso/user in the url map)")
                notes.append("JSON update: not available yet")
        if "form" in args.targets:
            form, note = form_target(server.url, routes, seed, db.engine)
            print(note)
            notes.append(f"{db.name}: {note}")
            if form:
                targets.append(form)

        for connections in args.connections:
            tries: dict[str, list[dict[str, Any]]] = {target.name: [] for target in targets}
            for _round in range(args.repeat):   # interleaved, so a busy moment hits every target alike
                for target in targets:
                    row = measure(server, db, seed, target, connections, args, notes)
                    tries[target.name].append(row)
                    print(f"  {target.name:<9} {db.name:<10} c={connections:<3} {row['rps']:8.1f} req/s  "
                          f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
                          f"unexpected {row['unexpected_status']}", flush=True)
            for name, rows in tries.items():
                best = max(rows, key=lambda r: r["rps"])
                runs.append({**best, "rps_all_tries": [r["rps"] for r in rows]})
        rss = server.worker_rss_mib()
        notes.append(f"{db.name}: worker RSS after the runs: {', '.join(f'{m} MiB' for m in rss)}")
        if args.bulk:
            pages = measure_100k(server, db, routes, seed)
    profile = None
    if args.profile:
        if routes.api_update:
            profile = profile_update(app, seed, db.name)
            print_profile(profile)
        else:
            print("profile: skipped (no JSON update yet)")
    app.extensions["sso_engine"].dispose()
    db.engine.dispose()
    return runs, pages, notes, profile


def add_ratios(runs: list[dict[str, Any]]) -> None:
    reference = {(r["db"], r["connections"]): r["rps"] for r in runs if r["target"] == "reference"}
    for r in runs:
        base = reference.get((r["db"], r["connections"]))
        r["ratio_to_reference"] = round(r["rps"] / base, 3) if base else None
        r["ok_rps"] = round((r["requests"] - r["unexpected_status"]) / r["duration_s"], 1)


def print_table(runs: list[dict[str, Any]]) -> None:
    header = (f"{'target':<10} {'db':<11} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'non-2xx':>8} {'unexpect':>8} {'sockerr':>7} {'vs ref':>7} {'ok/s':>9}")
    print("\n" + header)
    print("-" * len(header))
    for r in sorted(runs, key=lambda r: (r["db"] != "sqlite", r["connections"], r["target"] != "reference", r["target"])):
        errors = sum(r["socket_errors"].values())
        ratio = f"{100 * r['ratio_to_reference']:.0f}%" if r["ratio_to_reference"] is not None else "-"
        print(f"{r['target']:<10} {r['db']:<11} {r['connections']:>5} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {r['non_2xx_3xx']:>8} {r['unexpected_status']:>8} {errors:>7} {ratio:>7} {r['ok_rps']:>9.1f}")
    print("non-2xx = wrk's count of 4xx/5xx; unexpect = any status but the target's success (200, or 303 for the form);\n"
          "vs ref = req/s over the reference's at the same database and connections; ok/s = successful requests/s")
    spread = {r["users"] for r in runs}
    print("writes go to " + (", ".join(f"{n} users round-robin" for n in spread) if spread != {1} else "one target user (one hot row)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 s per wrk run")
    parser.add_argument("--connections", default="8,32", help="comma-separated (default 8,32)")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--targets", default="reference,api,form", help="comma-separated: reference, api, form")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each target N times, interleaved, and keep the best (for a busy machine)")
    parser.add_argument("--spread", type=int, default=64,
                        help="write to N target users round-robin (default 64, as a console with many "
                             "users sees; 1 = every request on one hot row)")
    parser.add_argument("--no-100k", dest="bulk", action="store_false", help="skip the 100,000-user page timings")
    parser.add_argument("--profile", action="store_true", help="profile the JSON update in-process (pyinstrument)")
    parser.add_argument("--output", default=str(RESULTS / "latest.json"), help="where to write the JSON results")
    parser.add_argument("--account-path", help="override the detected My account path")
    parser.add_argument("--edit-path", help="override the detected Manage user edit path, with {user_id}")
    parser.add_argument("--list-path", help="override the detected Manage user list path")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 3
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if shutil.which("wrk") is None:
        print("wrk is not installed: `bash scripts/bootstrap.sh --bench` (or apt-get install -y wrk)", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)

    load_before = os.getloadavg()
    if load_before[0] > 0.5:
        print(f"warning: load average {load_before[0]:.2f} before the run: other work on this machine "
              "will lower and scatter the figures", flush=True)
    secret = Fernet.generate_key().decode()
    fernet_key = Fernet.generate_key().decode()
    runs: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    notes: list[str] = []
    profiles: list[dict[str, Any]] = []
    for db in open_databases([d.strip() for d in args.db.split(",") if d.strip()]):
        print(f"\n== {db.name} ==", flush=True)
        db_runs, db_pages, db_notes, profile = bench_database(db, args, secret, fernet_key)
        runs += db_runs
        pages += db_pages
        notes += db_notes
        if profile:
            profiles.append(profile)

    add_ratios(runs)
    print_table(runs)
    if notes:
        print("\nnotes:\n  " + "\n  ".join(notes))
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    report = {
        "meta": {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit,
                 "duration_s": args.duration, "connections": args.connections, "cpus": os.cpu_count(),
                 "python": platform.python_version(),
                 "load_average_before": [round(x, 2) for x in load_before],
                 "load_average_after": [round(x, 2) for x in os.getloadavg()], "wrk": wrk_version[0] if wrk_version else None,
                 "server": "gunicorn -w 2 (sync) bench.reference_wsgi:app", "target_users": args.spread,
                 "repeat": args.repeat, "kept": "the try with the highest req/s",
                 "postgresql": "private cluster with fsync=off, synchronous_commit=off (tests/pgserver.py)",
                 "sqlite": "WAL, synchronous=NORMAL, BEGIN IMMEDIATE for writes (webapp/db.py)"},
        "runs": runs, "pages": pages, "profiles": profiles, "notes": notes,
    }
    Path(args.output).write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
