"""One read transaction and at most one write transaction per console request (issue 30), counted in the
transactions the app's engine begins; and the shared read's rules (webapp/db.py) on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import DBAPIError

from webapp.db import WRITE_OPTION, DatabaseUnavailable, read_scope, reading, writing
from webapp.sso.kernel.tables import users

from .conftest import BOTH_DATABASES
from .html_forms import form

pytestmark = BOTH_DATABASES


def transactions(app) -> dict[str, int]:
    """Transactions begun on the app's engine from now on, as reads and writes (live counts)."""
    seen = {"reads": 0, "writes": 0}

    def begun(conn):
        seen["writes" if conn.get_execution_options().get(WRITE_OPTION) else "reads"] += 1

    event.listen(app.extensions["sso_engine"], "begin", begun)
    return seen


def test_pages_read_in_one_transaction_and_the_save_writes_in_one_more(app, admin_client, make_user):
    client, _ = admin_client
    bob = make_user("bob")
    client.get("/account")  # a first request may renew the session or mark its use; count the next ones
    seen = transactions(app)
    for path in (
        f"/users/{bob['user_id']}",
        "/users",
        "/users?q=bob",
        "/account",
        f"/users/{bob['user_id']}/history",
        f"/users/{bob['user_id']}/confirm?action=lock",
    ):
        seen.update(reads=0, writes=0)
        assert client.get(path).status_code == 200, path
        assert seen == {"reads": 1, "writes": 0}, path

    page = form(client, f"/users/{bob['user_id']}", "user-form")
    page.fill("display_name", "Bob Shared")
    seen.update(reads=0, writes=0)
    assert page.submit(client).status_code == 303
    assert seen == {"reads": 1, "writes": 1}, "the caller and the target read once, the update written once"
    assert client.get(f"/users/{bob['user_id']}").get_data(as_text=True).count("Bob Shared") >= 1


def display_name(conn, user_id: str) -> str | None:
    return conn.execute(select(users.c.display_name).where(users.c.user_id == user_id)).scalar_one()


def rename(engine, user_id: str, name: str) -> None:
    with writing(engine) as conn:
        conn.execute(update(users).where(users.c.user_id == user_id).values(display_name=name))


def test_a_read_after_a_write_sees_it(app, make_user):
    """Without the write ending the shared read, SQLite's snapshot (begun before) would show the old name."""
    engine = app.extensions["sso_engine"]
    bob = make_user("bob")
    seen = transactions(app)
    with read_scope():
        with reading(engine) as conn:
            before = display_name(conn, bob["user_id"])
        with reading(engine) as conn:  # the same transaction
            assert display_name(conn, bob["user_id"]) == before
        assert seen == {"reads": 1, "writes": 0}
        rename(engine, bob["user_id"], "After")
        with reading(engine) as conn:
            assert display_name(conn, bob["user_id"]) == "After"
        # a write inside an open read block (a session's last-use mark): the next block reads afresh
        with reading(engine) as conn:
            display_name(conn, bob["user_id"])
            rename(engine, bob["user_id"], "Inside")
        with reading(engine) as conn:
            assert display_name(conn, bob["user_id"]) == "Inside"
    assert seen == {"reads": 3, "writes": 2}


def test_a_failed_read_block_ends_the_shared_transaction(app, make_user):
    """A statement error aborts a PostgreSQL transaction: the next read must not run in it."""
    engine = app.extensions["sso_engine"]
    bob = make_user("bob")
    with read_scope():
        # (SQLite's "no such column" is an OperationalError, which the app answers as DatabaseUnavailable)
        with pytest.raises((DBAPIError, DatabaseUnavailable)), reading(engine) as conn:
            conn.execute(text("SELECT no_such_column FROM sso_user"))
        with reading(engine) as conn:
            assert display_name(conn, bob["user_id"]) == bob["display_name"]
        with pytest.raises(LookupError), reading(engine) as conn:
            raise LookupError("a refusal inside a read")
        with reading(engine) as conn:
            assert display_name(conn, bob["user_id"]) == bob["display_name"]


def test_alone_and_reads_inside_a_write_keep_their_own_transactions(app, make_user):
    engine = app.extensions["sso_engine"]
    bob = make_user("bob")
    seen = transactions(app)
    with read_scope():
        with reading(engine) as conn:
            display_name(conn, bob["user_id"])
        with reading(engine, alone=True) as conn:
            display_name(conn, bob["user_id"])
        with writing(engine) as conn, reading(engine) as inner:
            display_name(inner, bob["user_id"])
        with reading(engine) as conn:
            display_name(conn, bob["user_id"])
    assert seen == {"reads": 4, "writes": 1}
