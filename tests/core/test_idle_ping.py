"""PostgreSQL connections are pinged only after sitting idle (issue 14): no round trip per request under
load, and a server-side disconnect of an idle connection is still found before the request uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from webapp import db
from webapp.db import DatabaseUnavailable, make_engine, writing

from ..conftest import PASSWORD

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _kill_the_apps_connections(db_url: str) -> int:
    """Terminate every other backend on this database, as a restart or a dropped link would."""
    admin = make_engine(db_url)
    try:
        with writing(admin) as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


def _signed_in(sso, make_user):
    make_user("pinger")
    return sso.user.login("cid", "pinger", PASSWORD, "CRM", "10.0.0.1").ust


def test_an_idle_connection_killed_on_the_server_is_replaced_before_use(sso, make_user, db_url, monkeypatch):
    ust = _signed_in(sso, make_user)
    assert sso.user.get_current_user("cid", ust, "CRM", "10.0.0.1")["username"] == "pinger"
    assert _kill_the_apps_connections(db_url) >= 1
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # every pooled connection now counts as idle
    assert sso.user.get_current_user("cid", ust, "CRM", "10.0.0.1")["username"] == "pinger"


def test_a_busy_connection_is_not_pinged_and_a_disconnect_costs_one_request(sso, make_user, db_url, monkeypatch):
    ust = _signed_in(sso, make_user)
    sso.user.get_current_user("cid", ust, "CRM", "10.0.0.1")
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)  # never idle long enough: no ping
    _kill_the_apps_connections(db_url)
    with pytest.raises(DatabaseUnavailable):
        sso.user.get_current_user("cid", ust, "CRM", "10.0.0.1")
    # the disconnect emptied the pool: the next request connects afresh
    assert sso.user.get_current_user("cid", ust, "CRM", "10.0.0.1")["username"] == "pinger"
