"""Every API response is one JSON object with `cid` and `status`; errors are mapped to HTTP here, once."""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Response, current_app, g
from werkzeug.exceptions import HTTPException

from ..db import DatabaseUnavailable
from ..sso.kernel.errors import Code, Kind, SSOError
from ..sso.kernel.presentation import wire_datetime

HTTP_STATUS = {
    Kind.malformed: 400,
    Kind.invalid: 422,
    Kind.unauthenticated: 401,
    Kind.forbidden: 403,
    Kind.not_found: 404,
    Kind.conflict: 409,
    Kind.precondition: 412,
    Kind.throttled: 429,
    Kind.unavailable: 503,
    Kind.missing: 400,
    Kind.rate_limited: 429,
}

# What Zato itself answers for a missing required input, kept beside our envelope (SPEC §14).
ZATO_BAD_REQUEST = {"result": "Error", "details": "Bad request"}


def new_cid() -> str:
    """A correlation id for one request, returned to the caller and written to the audit log."""
    return uuid.uuid4().hex


def cid() -> str:
    """This request's correlation id: the one webapp.ops set from X-Request-Id or made (the console's too)."""
    if "cid" not in g:
        g.cid = new_cid()
    return g.cid


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return wire_datetime(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def envelope(
    payload: Mapping[str, Any] | None = None,
    *,
    status: str = "ok",
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response: `cid` and `status` first, then the payload's keys beside them."""
    body = {"cid": cid(), "status": status, **(payload or {})}
    text = json.dumps(body, default=_default, ensure_ascii=True, allow_nan=False)
    response = Response(text, status=http_status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Zato-CID"] = body["cid"]
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error(
    http_status: int,
    sub_status: list[str],
    errors: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    extra_keys: Mapping[str, Any] | None = None,
) -> Response:
    """An error envelope."""
    extra = dict(headers or {})
    if http_status == 401:
        extra.setdefault("WWW-Authenticate", 'Bearer realm="zato-sso"')
    return envelope(
        {"sub_status": list(sub_status), "errors": dict(errors), **(extra_keys or {})},
        status="error",
        http_status=http_status,
        headers=extra,
    )


def from_sso_error(exc: SSOError) -> Response:
    """An SSOError as the API answers it: its kind decides the HTTP status."""
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    extra_keys = {**(ZATO_BAD_REQUEST if exc.kind == Kind.missing else {}), **exc.extra}
    return error(HTTP_STATUS.get(exc.kind, 400), exc.sub_status, exc.errors, headers, extra_keys)


def from_unavailable(exc: DatabaseUnavailable) -> Response:
    """The database could not serve the request in time: 503 with Retry-After, quickly."""
    current_app.logger.warning("cid=%s database unavailable (%s)", cid(), exc.reason)
    return error(
        503,
        [Code.internal_error],
        {"database": "did not answer in time; the request may not have been carried out, try again"},
        headers={"Retry-After": str(exc.retry_after)},
    )


def from_http_exception(exc: HTTPException) -> Response:
    """Werkzeug's own refusals (413 body too large, ...) in the same envelope."""
    status = exc.code or 500
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return error(413, [Code.invalid_input], {"body": f"must be at most {limit} bytes"})
    if status == 405:
        return error(405, [], {"method": "is not allowed here"})
    return error(status, [Code.invalid_input] if 400 <= status < 500 else [], {"request": exc.description or exc.name})


def from_unexpected(exc: Exception) -> Response:
    """The last resort: a 500 envelope. Only the traceback's frames are logged, never the message,
    which could quote SQL parameters."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    current_app.logger.error("cid=%s unhandled %s in the JSON API\n%s", cid(), type(exc).__name__, frames)
    return error(500, [], {"server": "internal error; quote the cid when reporting it"})


def register(bp) -> None:
    """Map every failure inside the API's blueprint to the envelope: the one place errors are mapped."""
    bp.register_error_handler(SSOError, from_sso_error)
    bp.register_error_handler(DatabaseUnavailable, from_unavailable)
    bp.register_error_handler(HTTPException, from_http_exception)
    bp.register_error_handler(Exception, from_unexpected)
