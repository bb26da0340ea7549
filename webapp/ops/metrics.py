"""Prometheus metrics: requests by route and status, latency, logins, changes, conflicts, database errors.

Under gunicorn every worker writes its samples to files in `PROMETHEUS_MULTIPROC_DIR` (gunicorn.conf.py
makes one when it is unset) and `/metrics` adds up all workers' files, so any worker answers the
totals. Without that variable (the Flask dev server, tests in one process) the process's own registry
is served.
"""

from __future__ import annotations

import hmac
import os

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError

from ..db import DatabaseUnavailable
from ..sso.email import outbox
from ..sso.kernel import events
from .requestlog import elapsed, route_of

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "sso_http_requests", "HTTP requests answered, by route, method and status", ["route", "method", "status"]
)
LATENCY = Histogram(
    "sso_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LOGINS = Counter("sso_logins", "Login attempts by result (ok, failed, throttled)", ["result"])
CHANGES = Counter(
    "sso_changes", "Audited changes (update, create, login, change_password, ...) by channel", ["action", "channel"]
)
CONFLICTS = Counter(
    "sso_conflicts", "Answers that refused a write as a conflict: 409, or 412 (stale If-Match)", ["status"]
)
DB_ERRORS = Counter("sso_database_errors", "Errors raised by the database driver, by SQLAlchemy error class", ["error"])

CONFLICT_STATUSES = (409, 412)


def _count_login(result: str) -> None:
    LOGINS.labels(result=result).inc()


def _count_change(action: str, channel: str) -> None:
    CHANGES.labels(action=action, channel=channel).inc()


def _count_db_error(context) -> None:
    DB_ERRORS.labels(error=type(context.sqlalchemy_exception).__name__).inc()


def watch_engine(engine: Engine) -> None:
    """Count the driver errors of `engine` (once per engine)."""
    if not event.contains(engine, "handle_error", _count_db_error):
        event.listen(engine, "handle_error", _count_db_error)


def count_response(response: Response) -> Response:
    """Count the answer and its latency under the route that matched."""
    route, status = route_of(), response.status_code
    REQUESTS.labels(route=route, method=request.method, status=str(status)).inc()
    if g.get("sso_started") is not None:
        LATENCY.labels(route=route, method=request.method).observe(elapsed())
    if status in CONFLICT_STATUSES:
        CONFLICTS.labels(status=str(status)).inc()
    return response


class OutboxCollector:
    """The outbox's state, read from the database at each scrape (issue 27): it is the same for every worker and
    node, and the worker delivering it is another process."""

    def __init__(self, ctx):
        self.ctx = ctx

    def collect(self):
        try:
            found = outbox.state(self.ctx)
        except (DatabaseUnavailable, SQLAlchemyError):  # the database's own trouble shows elsewhere; not a 500 here
            return
        messages = GaugeMetricFamily(
            "sso_outbox_messages",
            "Emails in the outbox by status: queued (waiting), sent (kept SSO_OUTBOX_KEEP_DAYS), failed (given up)",
            labels=["status"],
        )
        for status in ("queued", "sent", "failed"):
            messages.add_metric([status], getattr(found, status))
        yield messages
        yield GaugeMetricFamily(
            "sso_outbox_oldest_queued_age_seconds",
            "How long the oldest queued email has waited (0 when none waits)",
            value=found.oldest_queued_age,
        )


def exposition() -> bytes:
    """The text format of every worker's samples (or this process's), and the outbox's state."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        processes = generate_latest(registry)
    else:
        processes = generate_latest(REGISTRY)
    shared = CollectorRegistry()
    shared.register(OutboxCollector(current_app.extensions["sso"].ctx))
    return processes + generate_latest(shared)


def authorized() -> bool:
    """No token configured: open (keep /metrics off the public proxy). Else `Authorization: Bearer <token>`."""
    token = current_app.config.get("SSO_METRICS_TOKEN")
    if not token:
        return True
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def metrics_response() -> Response:
    if not authorized():
        return Response(
            "bearer token required\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    events.listen(events.LOGIN, _count_login)
    events.listen(events.CHANGE, _count_change)
    watch_engine(app.extensions["sso_engine"])
    app.after_request(count_response)
