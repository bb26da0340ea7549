"""The JSON API (SPEC §6): Zato SSO's REST user endpoints under /zato/sso/, over the same service layer."""
from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.routing import Rule

from .operations import PREFIX
from .views import bp, fallback

FALLBACK = f"{bp.name}.fallback"


def _exempt_from_csrf(app: Flask) -> None:
    """The API authenticates with the UST, not cookies: it never needs (or gets) a CSRF token."""
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)


def _exempt_late() -> None:
    # The web console may switch CSRFProtect on after we were registered; this runs before its check.
    if request.blueprint == bp.name:
        _exempt_from_csrf(current_app._get_current_object())  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Register the API's blueprint, its catch-all for wrong paths and methods, and its CSRF exemption."""
    app.register_blueprint(bp)
    # A rule with no method list matches every method, so a wrong method or path under the prefix
    # reaches our 404/405 envelope rather than werkzeug's HTML page (or the web console's).
    app.url_map.add(Rule(f"{PREFIX}/<path:rest>", endpoint=FALLBACK))
    app.url_map.add(Rule(PREFIX, endpoint=FALLBACK, defaults={"rest": ""}, strict_slashes=False))
    app.view_functions[FALLBACK] = fallback
    _exempt_from_csrf(app)
    app.before_request(_exempt_late)
