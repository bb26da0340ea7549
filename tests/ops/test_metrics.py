"""Metrics counted in one process (the Flask test client): database errors and conflicts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError

from webapp import create_app
from webapp.sso.kernel.tables import outbox

from ..conftest import app_config as config_for


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def app_on_sqlite(sqlite_template, tmp_path):
    path = tmp_path / "sso.db"
    path.write_bytes(sqlite_template.read_bytes())
    app = create_app(config_for(f"sqlite:///{path}"))
    yield app
    app.extensions["sso_engine"].dispose()


def test_a_database_error_is_counted_by_its_class(app_on_sqlite):
    before = sample("sso_database_errors_total", error="OperationalError")
    with pytest.raises(OperationalError), app_on_sqlite.extensions["sso_engine"].connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert sample("sso_database_errors_total", error="OperationalError") == before + 1


def test_a_stale_if_match_is_counted_as_a_412_conflict(app_on_sqlite):
    sso = app_on_sqlite.extensions["sso"]
    sso.operator.create_local("mia", "Correct-Horse-9", super_user=False)
    ust = sso.user.login("c", "mia", "Correct-Horse-9", "CRM", "127.0.0.1").ust
    client = app_on_sqlite.test_client()
    etag = client.get("/zato/sso/user", data=f'{{"ust": "{ust}", "current_app": "CRM"}}').headers["ETag"]
    sso.user.update_current_user("c", {"display_name": "Mia"}, ust, "CRM", "127.0.0.1")
    before = sample("sso_conflicts_total", status="412")
    stale = client.patch(
        "/zato/sso/user",
        data=f'{{"ust": "{ust}", "current_app": "CRM", "first_name": "M"}}',
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412
    assert sample("sso_conflicts_total", status="412") == before + 1
    assert sample("sso_http_requests_total", route="/zato/sso/user", method="PATCH", status="412") >= 1


def test_metrics_show_the_outbox_queued_sent_failed_and_the_oldest_wait(app_on_sqlite):
    from prometheus_client.parser import text_string_to_metric_families

    from webapp.db import writing
    from webapp.sso.email.mail import Message
    from webapp.sso.email.outbox import enqueue

    sso = app_on_sqlite.extensions["sso"]
    now = {"t": datetime(2030, 1, 1, 12, 0, 0)}
    sso.ctx.clock = lambda: now["t"]
    with writing(sso.ctx.engine) as conn:
        for n in range(3):
            enqueue(sso.ctx, conn, Message(f"m{n}@example.com", "Hi", "text", "<p>html</p>", "test"))
        conn.execute(update(outbox).where(outbox.c.id == 1).values(status="sent", body=None))
        conn.execute(update(outbox).where(outbox.c.id == 2).values(status="failed"))
    now["t"] += timedelta(seconds=42)

    exposed = app_on_sqlite.test_client().get("/metrics").get_data(as_text=True)
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposed)
        for s in family.samples
        if s.name.startswith("sso_outbox")
    }
    assert values == {
        ("sso_outbox_messages", (("status", "queued"),)): 1.0,
        ("sso_outbox_messages", (("status", "sent"),)): 1.0,
        ("sso_outbox_messages", (("status", "failed"),)): 1.0,
        ("sso_outbox_oldest_queued_age_seconds", ()): 42.0,
    }
