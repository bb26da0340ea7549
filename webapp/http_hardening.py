"""HTTP-level hardening every request passes, whichever face serves it (issue 12): whole request bodies only (a
chunked body over `SSO_MAX_BODY` is a 413, a malformed one a 400, never a truncated read), HSTS over
HTTPS, and a database that cannot answer in time as a 503 with `Retry-After`."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from .db import DatabaseUnavailable
from .i18n import gettext

BODY_ERROR = "sso.body_error"
READ_CHUNK = 64 * 1024


class WholeBody:
    """WSGI middleware: a body without Content-Length (chunked) is read here, at most `limit` bytes,
    and handed on with its length; too long or unreadable, the request is marked for a 413 or 400
    that the app then answers in its own format (JSON envelope or page)."""

    def __init__(self, app: Any, limit: int | None):
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if (
            self.limit is not None
            and not environ.get("CONTENT_LENGTH")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            environ[BODY_ERROR], body = self._read(environ["wsgi.input"], self.limit)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    @staticmethod
    def _read(stream: Any, limit: int) -> tuple[int | None, bytes]:
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                part = stream.read(min(READ_CHUNK, limit + 1 - size))
                if not part:
                    return None, b"".join(parts)
                parts.append(part)
                size += len(part)
                if size > limit:
                    return 413, b""
        except Exception:
            return 400, b""


def _refuse_bad_bodies() -> None:
    code = request.environ.get(BODY_ERROR)
    if code == 400:
        abort(400, description="the request body is not valid chunked transfer encoding")
    if code == 413:
        abort(413)


def _hsts(response: Response) -> Response:
    """Strict-Transport-Security whenever the request came over HTTPS (directly or via a trusted proxy)."""
    max_age = current_app.config.get("SSO_HSTS_MAX_AGE", 0)
    if request.is_secure and max_age > 0:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}; includeSubDomains")
    return response


def unavailable_page(exc: DatabaseUnavailable) -> Response:
    """The console's answer when the database cannot serve the request in time."""
    current_app.logger.warning("database unavailable (%s) on %s %s", exc.reason, request.method, request.path)
    text = render_template(
        "error.html",
        title=gettext("Service briefly unavailable"),
        status_code=503,
        message=gettext(
            "The account database did not answer in time, so this request may not have been carried out. "
            "Please try again in %(seconds)s seconds.",
            seconds=exc.retry_after,
        ),
    )
    response = current_app.response_class(text, status=503)
    response.headers["Retry-After"] = str(exc.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def claim_unrouted(app: Flask, prefix: str, answer: Callable[[HTTPException], ResponseReturnValue]) -> None:
    """Let a face answer routing's own 404 and 405 under `prefix` in its own shape. Routing fails before any
    blueprint is chosen, so blueprint error handlers never see those; the longest claimed prefix answers."""
    app.extensions.setdefault("unrouted", {})[prefix] = answer


def _unrouted(error: HTTPException) -> ResponseReturnValue:
    claimed = current_app.extensions.get("unrouted", {})
    prefix = max((p for p in claimed if request.path.startswith(p)), key=len, default=None)
    return error if prefix is None else claimed[prefix](error)


def init_http_hardening(app: Flask) -> None:
    """Install the body reader, the HSTS header and the console's 503 page."""
    app.wsgi_app = WholeBody(app.wsgi_app, app.config.get("MAX_CONTENT_LENGTH"))  # type: ignore[method-assign]  # Flask's documented way to wrap it
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_bad_bodies)
    app.after_request(_hsts)
    app.register_error_handler(DatabaseUnavailable, unavailable_page)
    app.register_error_handler(NotFound, _unrouted)
    app.register_error_handler(MethodNotAllowed, _unrouted)
