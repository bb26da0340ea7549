"""One log line per request (JSON by default, plain text for `make run`), and the request id (`cid`).

The cid of a request is the one in the JSON envelope, the audit record and the `X-Request-Id` response
header. An incoming `X-Request-Id` is kept only behind a trusted proxy (`SSO_TRUSTED_PROXIES` > 0) and
only when it is a short token; otherwise a new one is made. The line never carries a body, a header
value, a query string, a cookie or even the raw path (only the route that matched it, e.g.
`/users/<user_id>`), so no password, UST, token or key can reach the log through it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from ..sso.kernel import events

LOGGER = "webapp.request"
REQUEST_ID_HEADER = "X-Request-Id"
INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes: logged at DEBUG only, so they do not drown the log at INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
FIELDS = ("cid", "method", "route", "status", "duration_ms", "user_id", "remote_addr")


def new_cid() -> str:
    """A fresh correlation id."""
    return uuid.uuid4().hex


def incoming_cid(app: Flask) -> str | None:
    """The proxy's request id, when a proxy is trusted and the id is a plain token."""
    if app.config.get("SSO_TRUSTED_PROXIES", 0) <= 0:
        return None
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if INCOMING_ID.fullmatch(value) else None


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the request fields that are set."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if "cid" not in line and has_request_context() and "cid" in g:
            line["cid"] = g.cid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal: `time LEVEL message key=value ...`."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_utc(record.created), record.levelname, record.getMessage()]
        parts += [f"{name}={getattr(record, name)}" for name in FIELDS if getattr(record, name, None) is not None]
        text = " ".join(str(part) for part in parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(app: Flask) -> None:
    """Send the app's loggers (`webapp.*`) to stderr in the configured format, at the configured level."""
    logger = logging.getLogger("webapp")
    for handler in [h for h in logger.handlers if getattr(h, "sso_handler", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.sso_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if app.config.get("SSO_LOG_FORMAT", "json") == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(app.config.get("SSO_LOG_LEVEL", "INFO"))
    mail = logging.getLogger("webapp.mail")  # its stand-alone handler would write every mail line a second time
    for fallback in [h for h in mail.handlers if getattr(h, "sso_mail_fallback", False)]:
        mail.removeHandler(fallback)
    # Propagation stays on: nothing handles the root logger under gunicorn, and pytest's caplog listens there.
    logger.propagate = True


def _remember_user(user_id: str) -> None:
    if has_request_context():
        g.sso_user_id = user_id


def route_of() -> str:
    """The URL rule that served this request (a bounded set: fit for a metric label), or `unmatched`."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def start_request() -> None:
    g.sso_started = time.perf_counter()
    g.cid = incoming_cid(_app()) or new_cid()


def _app() -> Flask:
    from flask import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]


def elapsed() -> float:
    """Seconds since this request started (0 when it started before our hook ran)."""
    started = g.get("sso_started")
    return 0.0 if started is None else time.perf_counter() - started


def finish_request(response: Response) -> Response:
    """Return the cid to the caller and write the request's one log line."""
    if "cid" not in g:
        g.cid = new_cid()
    response.headers[REQUEST_ID_HEADER] = g.cid
    status = response.status_code
    if request.path in QUIET_PATHS and status != 500:  # a 503 from /readyz is an answer, not a failure
        level = logging.DEBUG
    else:
        level = logging.ERROR if status >= 500 else logging.INFO
    logger = logging.getLogger(LOGGER)
    if logger.isEnabledFor(level):
        fields = {
            "cid": g.cid,
            "method": request.method,
            "route": route_of(),
            "status": status,
            "duration_ms": round(elapsed() * 1000, 2),
            "user_id": g.get("sso_user_id"),
            "remote_addr": request.remote_addr,
        }
        logger.log(level, "request", extra=fields)
    return response


def init_app(app: Flask) -> None:
    configure_logging(app)
    events.listen(events.AUTHENTICATED, _remember_user)
    app.before_request(start_request)
    app.after_request(finish_request)
