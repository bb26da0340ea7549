"""The web console (SPEC §7): server-rendered forms over the SSO service layer, htmx as an enhancement."""

from __future__ import annotations

from flask import Flask

from ..http_hardening import claim_unrouted

# The modules are imported for their routes, which register on bp.
from . import (  # noqa: F401
    account,
    api_clients,
    devices,
    email_change,
    history,
    language,
    login,
    outbox,
    passkeys,
    policies,
    privacy,
    profile_fields,
    required_actions,
    reset,
    restore,
    roles,
    signup,
    two_factor,
    users,
    validate,
)
from .auth import may
from .blueprint import bp, unrouted
from .compiled_templates import share_compiled_templates
from .display import init_display
from .security import init_security
from .steps import STEPS


def init_app(app: Flask) -> None:
    """Register the console: CSRF, cookies, security headers, template helpers and the `web` blueprint."""
    share_compiled_templates(app)  # first: CSRF protection makes the Jinja environment
    init_security(app)
    init_display(app)
    app.jinja_env.globals["may"] = may  # a page offers only what its reader may do (SPEC §17)
    app.jinja_env.globals["required_steps"] = STEPS  # the required actions' words (SPEC §19)
    app.register_blueprint(bp)
    claim_unrouted(app, "/", unrouted)  # routing's own 404/405 outside the other faces' prefixes
