"""The operator's endpoints (unauthenticated, cheap, never touching the app's pool) and the API reference."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from ..version import __version__
from .health import Readiness
from .metrics import metrics_response

bp = Blueprint("ops", __name__)

NO_STORE = {"Cache-Control": "no-store"}


def readiness() -> Readiness:
    """One Readiness per app, made on first use."""
    found = current_app.extensions.get("sso_readiness")
    if found is None:
        found = Readiness(current_app.config["DATABASE_URL"], current_app.config["SSO_READY_TIMEOUT"])
        current_app.extensions["sso_readiness"] = found
    return found


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answers; says nothing about the database."""
    response = jsonify(status="ok", version=__version__)
    response.headers.update(NO_STORE)
    return response


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the database answers in time and is at the newest migration, else 503 with the reason."""
    verdict = readiness().check()
    body = {"status": "ready" if verdict.ready else "not ready", "database": verdict.database}
    if verdict.migration is not None:
        body["migration"] = verdict.migration
    response = jsonify(body)
    response.headers.update(NO_STORE)
    return response, 200 if verdict.ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format, summed over every gunicorn worker."""
    return metrics_response()


@bp.get("/api/reference")
def api_reference() -> str:
    """A browsable reference of the JSON API (Swagger UI, served from static/vendor, under the CSP)."""
    return render_template("ops/api_reference.html", version=__version__)
