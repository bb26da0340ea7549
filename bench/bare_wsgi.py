"""The bench's *bare* reference: a minimal Flask + SQLAlchemy Core app that is not ours.

`PATCH /users/<user_id>` with a JSON body `{"display_name": "..."}` runs exactly one
`UPDATE sso_user SET display_name = …, display_name_search = …, version = version + 1
WHERE user_id = …` in its own transaction and answers `{"user_id": …, "updated": 1}` (404 when
no such row). No `create_app`, no request hooks, no session check, no read, no audit, no metrics,
no logging: the least this stack (Flask, Werkzeug, SQLAlchemy Core, the database driver) does
per request, so a target's ratio to it shows what the app adds on top (bench/README.md).

It imports nothing from `webapp` (its memory and import time are the stack's alone) and reads one
setting, DATABASE_URL, the same database the app under test uses. gunicorn runs it as it runs
ours (same gunicorn.conf.py, two sync workers). SQLite gets the pragmas the app's engine sets
(WAL, synchronous=NORMAL, a busy timeout, BEGIN IMMEDIATE for the write), so the difference
measured is the app's, not the database settings'.
"""

from __future__ import annotations

import os

from flask import Flask, abort, request
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, event, update

DATABASE_URL = os.environ["DATABASE_URL"]

table = Table(
    "sso_user",
    MetaData(),
    Column("user_id", String, primary_key=True),
    Column("display_name", String),
    Column("display_name_search", String),
    Column("version", Integer),
)
# Built once: values are bound per request (the cheapest way to run a Core statement).
UPDATE = (
    update(table)
    .where(table.c.user_id == bindparam("uid"))
    .values(display_name=bindparam("name"), display_name_search=bindparam("search"), version=table.c.version + 1)
)

if DATABASE_URL.startswith("sqlite"):
    engine = create_engine(DATABASE_URL, connect_args={"timeout": 2.0, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # BEGIN is ours (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=2000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

else:
    engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=20)

app = Flask(__name__)


@app.patch("/users/<user_id>")
def update_user(user_id: str):
    body = request.get_json(silent=True)
    name = body.get("display_name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name or len(name) > 256:
        abort(400)
    with engine.begin() as conn:
        updated = conn.execute(UPDATE, {"uid": user_id, "name": name, "search": name.casefold()}).rowcount
    if not updated:
        abort(404)
    return {"user_id": user_id, "updated": updated}
