"""Running it in production: request ids and the request log, health and readiness, Prometheus metrics,
and the browsable API reference. Nothing here writes to the database."""

from __future__ import annotations

from flask import Flask

from . import metrics, requestlog
from .views import bp


def init_app(app: Flask) -> None:
    """Register before the faces, so the request id exists before any view or hook asks for it."""
    requestlog.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(bp)
