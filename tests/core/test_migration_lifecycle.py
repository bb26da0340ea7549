"""Migration 0002 on a database that already has sessions: they keep working, each with a public id."""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import select, text

from webapp.db import make_engine, reading, writing
from webapp.schema import alembic_config, upgrade
from webapp.sso.kernel.tables import sessions


def test_open_sessions_get_a_public_id_and_a_last_use_time_when_upgrading(empty_db_url):
    engine = make_engine(empty_db_url)
    try:
        command.upgrade(alembic_config(engine), "0001")
        start = datetime(2030, 1, 2, 3, 4, 5)
        with writing(engine) as conn:
            conn.execute(
                text(
                    "INSERT INTO sso_user (user_id, username, username_search, password_is_set, password_must_change, "
                    "is_super_user, is_active, is_internal, is_locked, sign_up_time, sign_up_status, approval_status, "
                    "version) VALUES ('zusr1', 'a', 'a', false, false, false, true, false, false, :t, 'final', "
                    "'approved', 1)"
                ),
                {"t": start},
            )
            for n in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO sso_session (session_hash, user_id, current_app, creation_time, expiration_time) "
                        "VALUES (:h, 'zusr1', 'CRM', :t, :e)"
                    ),
                    {"h": f"hash{n}", "t": start, "e": start + timedelta(hours=1)},
                )
        upgrade(engine)
        with reading(engine) as conn:
            rows = conn.execute(select(sessions.c.session_id, sessions.c.last_use_time)).all()
        assert len({row.session_id for row in rows}) == 2 and all(row.session_id.startswith("zses") for row in rows)
        assert all(row.last_use_time == start for row in rows)
    finally:
        engine.dispose()
