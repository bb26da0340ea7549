"""Migration 0004 brings existing usernames to their normalised form (issue 12 #5), on both databases."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, insert, select

from webapp import create_app
from webapp.db import make_engine, reading, writing
from webapp.schema import alembic_config

from ..conftest import PASSWORD
from ..conftest import app_config as config_for

LEGACY = [  # (user_id, username as an older version stored it), oldest first
    ("zusr1", "josé"),
    ("zusr2", "jose\u0301"),
    ("zusr3", "root1"),
    ("zusr4", "root\u200b1"),
    ("zusr5", "\uff21lice"),
    ("zusr6", "bob\u202e"),
    ("zusr7", "plain"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def legacy_url(request, tmp_path):
    """A database migrated to 0003 only, holding usernames the old rules let in."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'legacy.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"sso_{uuid.uuid4().hex[:10]}")
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0003")
    table = Table("sso_user", MetaData(), autoload_with=engine)
    with writing(engine) as conn:
        for number, (user_id, username) in enumerate(LEGACY):
            row = {column.name: _filler(column) for column in table.c if not column.nullable}
            row.update(
                user_id=user_id,
                username=username,
                username_search=username.casefold(),
                sign_up_time=datetime(2020, 1, 1 + number),
                sign_up_status="final",
                approval_status="approved",
                password_hash=None,
                display_name="Ma\u0301ria",
            )
            conn.execute(insert(table).values(**row))
    yield url, engine
    engine.dispose()


def _filler(column):
    """A value for a NOT NULL column another migration may have added."""
    kind = column.type.python_type if hasattr(column.type, "python_type") else str
    return {bool: False, int: 1, datetime: datetime(2020, 1, 1), dict: {}}.get(kind, "x")


def test_usernames_become_nfkc_without_invisible_characters_and_stay_unique(legacy_url):
    url, engine = legacy_url
    command.upgrade(alembic_config(engine), "head")
    table = Table("sso_user", MetaData(), autoload_with=engine)
    with reading(engine) as conn:
        stored = {
            row.user_id: (row.username, row.username_search, row.display_name_search)
            for row in conn.execute(select(table))
        }
        audit = Table("sso_audit", MetaData(), autoload_with=engine)
        renamed = {row.target_id: row.changes["username"] for row in conn.execute(select(audit))}
    assert {user_id: username for user_id, (username, _, _) in stored.items()} == {
        "zusr1": "josé",
        "zusr2": "josé-2",
        "zusr3": "root1",
        "zusr4": "root1-2",
        "zusr5": "Alice",
        "zusr6": "bob",
        "zusr7": "plain",
    }
    assert stored["zusr5"][1] == "alice" and stored["zusr2"][1] == "jos\u00e9-2"
    assert stored["zusr1"][2] == "m\u00e1ria"  # the names' search columns are NFKC-folded too
    assert renamed == {
        "zusr2": {"old": "jose\u0301", "new": "josé-2"},
        "zusr4": {"old": "root\u200b1", "new": "root1-2"},
        "zusr5": {"old": "\uff21lice", "new": "Alice"},
        "zusr6": {"old": "bob\u202e", "new": "bob"},
    }
    app = create_app(config_for(url))
    try:
        sso = app.extensions["sso"]
        admin = sso.operator.create_local("admin", PASSWORD, super_user=True)
        assert admin["username"] == "admin"
        ust = sso.user.login("c", "admin", PASSWORD, "CRM", "127.0.0.1").ust
        found = sso.user.search("c", {"username": "JOSE\u0301"}, ust, "CRM", "127.0.0.1")["result"]
        assert [user["user_id"] for user in found] == ["zusr1"]
    finally:
        app.extensions["sso_engine"].dispose()
