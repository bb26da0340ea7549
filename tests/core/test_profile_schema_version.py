"""SPEC §16: a process keeps the profile fields' definitions while the schema version holds (one read of one
row per request instead of every definition), on SQLite and PostgreSQL: a change made by another process, or by
hand, is in force for the next write, and a definition change racing a value write never leaves a value that
breaks the definition in force."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select, update

from webapp import create_app
from webapp.db import reading, writing
from webapp.sso import Call, Code, Kind, SSOError
from webapp.sso.accounts import update as update_module
from webapp.sso.kernel.tables import profile_fields, profile_schema, profile_values

from ..conftest import app_config
from .helpers import ADDR, APP, CID, refused


@pytest.fixture
def admin_service(sso, admin):
    service = sso.serve(Call(CID, admin[1], APP, ADDR))
    service.define_profile_field({"name": "department", "label": "Department", "type": "text", "searchable": True})
    return service


@pytest.fixture
def other_process(db_url):
    """A second app on the same database: another process's engine, and so its own kept definitions."""
    application = create_app(app_config(db_url))
    yield application.extensions["sso"]
    application.extensions["sso_engine"].dispose()


def schema_version(sso) -> int:
    with reading(sso.ctx.engine) as conn:
        return conn.execute(select(profile_schema.c.version)).scalar_one()


def stored(sso, user_id: str) -> str | None:
    with reading(sso.ctx.engine) as conn:
        return conn.execute(select(profile_values.c.text_value).where(profile_values.c.user_id == user_id)).scalar()


def statements_of(sso, call) -> list[str]:
    seen: list[str] = []

    def hook(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(sso.ctx.engine, "before_cursor_execute", hook)
    try:
        call()
    finally:
        event.remove(sso.ctx.engine, "before_cursor_execute", hook)
    return seen


def test_an_update_reads_the_definitions_only_when_the_schema_version_moved(sso, admin_service, admin, make_user):
    bob = make_user("bob")
    update = lambda value: sso.user.update_user_by_id(CID, bob["user_id"], {"department": value}, admin[1], APP, ADDR)  # noqa: E731
    update("Sales")
    reads = statements_of(sso, lambda: update("Legal"))
    assert not any("FROM sso_profile_field" in s for s in reads), reads
    before = schema_version(sso)
    admin_service.change_profile_field("department", {"label": "Dept."})
    assert schema_version(sso) > before
    reads = statements_of(sso, lambda: update("Ops"))
    assert sum("FROM sso_profile_field" in s for s in reads) == 1, reads
    assert stored(sso, bob["user_id"]) == "Ops"


def test_a_change_made_by_another_process_is_in_force_for_the_next_write(
    sso, admin_service, admin, make_user, other_process
):
    bob, cid = make_user("bob"), make_user("cid")
    sso.user.update_user_by_id(CID, bob["user_id"], {"department": "Sales"}, admin[1], APP, ADDR)  # kept here
    other = other_process.serve(Call(CID, admin[1], APP, ADDR))
    other.change_profile_field("department", {"max_length": 5})
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_user_by_id(CID, cid["user_id"], {"department": "Operations"}, admin[1], APP, ADDR)
    assert set(info.value.errors) == {"department"} and "at most 5" in info.value.errors["department"]
    other.retire_profile_field("department")
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_user_by_id(CID, cid["user_id"], {"department": "Ops"}, admin[1], APP, ADDR)
    assert set(info.value.errors) == {"department"}
    assert stored(sso, cid["user_id"]) is None


def test_a_definition_changed_by_hand_is_seen_too(sso, admin_service, admin, make_user):
    bob = make_user("bob")
    sso.user.update_user_by_id(CID, bob["user_id"], {"department": "Sales"}, admin[1], APP, ADDR)
    before = schema_version(sso)
    with writing(sso.ctx.engine) as conn:  # SQL, not the service: the database's triggers move the version
        conn.execute(update(profile_fields).values(max_length=3))
    assert schema_version(sso) > before
    with refused(Kind.invalid, Code.invalid_input):
        sso.user.update_user_by_id(CID, bob["user_id"], {"department": "Legal"}, admin[1], APP, ADDR)
    assert stored(sso, bob["user_id"]) == "Sales"


def test_a_change_committed_between_a_writes_check_and_its_write_is_checked_again(
    sso, admin_service, admin, make_user, monkeypatch
):
    """The value was checked against the old definition; the tightening commits (no stored value breaks it);
    the write finds the schema version moved in its own statement and is checked again: refused."""
    bob = make_user("bob")
    checked, changed = threading.Event(), threading.Event()
    original = update_module.check_update

    def check_then_wait(*args, **kwargs):
        result = original(*args, **kwargs)
        if not kwargs.get("lock") and not checked.is_set():
            checked.set()
            assert changed.wait(10)
        return result

    monkeypatch.setattr(update_module, "check_update", check_then_wait)
    outcome: list[object] = []

    def writer():
        try:
            outcome.append(
                sso.user.update_user_by_id(CID, bob["user_id"], {"department": "Operations"}, admin[1], APP, ADDR)
            )
        except Exception as e:  # the outcome is asserted below
            outcome.append(e)

    thread = threading.Thread(target=writer)
    thread.start()
    assert checked.wait(10)
    # (On PostgreSQL the check's transaction is still open, holding no lock a change waits for.)
    admin_service.change_profile_field("department", {"max_length": 5})
    changed.set()
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], SSOError), outcome
    assert set(outcome[0].errors) == {"department"}
    assert stored(sso, bob["user_id"]) is None


def test_a_change_waits_for_a_value_write_under_way_and_counts_its_value(
    sso, admin_service, admin, make_user, monkeypatch
):
    """The value write is inside its write transaction (past its conditional write) when the tightening starts:
    the tightening waits for it, then finds its value breaking the new definition and is refused. (Bob holds a
    value already: replacing it takes no foreign-key lock on the definition's row, which would serialise them
    on PostgreSQL by itself.)"""
    bob = make_user("bob")
    sso.user.update_user_by_id(CID, bob["user_id"], {"department": "Ops"}, admin[1], APP, ADDR)
    writing_now = threading.Event()
    original = update_module.record

    def record_slowly(*args, **kwargs):
        writing_now.set()
        time.sleep(0.5)  # the change below starts meanwhile, and must wait for this transaction
        return original(*args, **kwargs)

    monkeypatch.setattr(update_module, "record", record_slowly)
    thread = threading.Thread(
        target=sso.user.update_user_by_id, args=(CID, bob["user_id"], {"department": "Operations"}, admin[1], APP, ADDR)
    )
    thread.start()
    assert writing_now.wait(10)
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.change_profile_field("department", {"max_length": 5})
    thread.join(10)
    assert str(info.value.errors["department"]).startswith("1 user holds a value this change would break")
    assert stored(sso, bob["user_id"]) == "Operations"
    with reading(sso.ctx.engine) as conn:
        assert conn.execute(select(profile_fields.c.max_length)).scalar() is None
