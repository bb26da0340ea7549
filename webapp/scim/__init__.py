"""SCIM 2.0 (SPEC §21, RFC 7643/7644): the third face, at `/scim/v2/`, over the same service as the JSON API
and the console. Directories (Entra ID, Okta…) create, update and deactivate users here with a SCIM
client's bearer token (`flask sso create-scim-client`).

`resources.py` says how our user reads as a SCIM User and back (SPEC §21's mapping); `filters.py` turns a
SCIM filter into the service's structured search filter (indexed columns, never SQL text); `errors.py`
answers every failure in SCIM's error shape; `views.py` has the routes, one service call each."""

from __future__ import annotations

from flask import Flask


def init_scim(app: Flask) -> None:
    from ..http_hardening import claim_unrouted
    from .errors import error_response
    from .views import bp

    app.register_blueprint(bp)
    claim_unrouted(app, "/scim/", lambda error: error_response(error.code or 404, None, error.description or ""))
