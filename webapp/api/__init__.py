"""The JSON API (SPEC §6): Zato SSO's REST user endpoints under /zato/sso/, over the same service layer."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import Rule

from .operations import PREFIX
from .views import bp, fallback

FALLBACK = f"{bp.name}.fallback"


def init_app(app: Flask) -> None:
    """Register the API's blueprint and its catch-all for wrong paths and methods.

    The API authenticates with the UST, never a cookie: the web console exempts it from CSRF
    (`webapp/web/security.py`), the one place CSRF is switched on.
    """
    app.register_blueprint(bp)
    # A rule with no method list matches every method, so a wrong method or path under the prefix
    # reaches our 404/405 envelope rather than werkzeug's HTML page (or the web console's).
    app.url_map.add(Rule(f"{PREFIX}/<path:rest>", endpoint=FALLBACK))
    app.url_map.add(Rule(PREFIX, endpoint=FALLBACK, defaults={"rest": ""}, strict_slashes=False))
    app.view_functions[FALLBACK] = fallback
