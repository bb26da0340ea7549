"""The SSO user-account service: `create_app()` builds the Flask app and its service layer (`create_service()`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, ops
from . import config as settings
from .api import init_app as init_api
from .db import make_engine, read_scope
from .http_hardening import init_http_hardening
from .i18n import init_i18n
from .memory import keep_large_buffers_out_of_the_heap
from .scim import init_scim
from .sso import SSO, Context
from .sso.credentials.passkeys import relying_party_problem
from .sso.email.mail import Mailer
from .sso.email.notifications import Notifications
from .sso.kernel.caller import forget_callers_on_commit, request_scope
from .sso.kernel.tokens import TokenCodec
from .static_files import init_static_files
from .version import __version__
from .web import init_app as init_web

__all__ = ["ROOT", "__version__", "configuration", "create_app", "create_service"]

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"  # secrets.env and the default SQLite file


def configuration(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings: the environment's (over `instance/secrets.env`), then `config`; checked."""
    merged = {**settings.from_environment(str(INSTANCE)), **(config or {})}
    settings.check(merged)
    return merged


def create_service(config: dict[str, Any]) -> SSO:
    """The service layer on checked settings (see `configuration`): its engine, token codec and mailer, no Flask.
    `create_app` builds its own with this; the tests of the service alone call it directly."""
    engine = make_engine(config["DATABASE_URL"], config)
    mailer = Mailer(config)
    ctx = Context(engine=engine, codec=TokenCodec(config["SSO_FERNET_KEYS"]), settings=config, mailer=mailer)
    ctx.notify = Notifications(ctx)
    forget_callers_on_commit(engine)
    problem = relying_party_problem(config)
    if problem:
        logging.getLogger("webapp.passkeys").warning(problem)
    return SSO(ctx)


def init_request_scope(app: Flask) -> None:
    """Every request of `app` is one scope of the service's caller cache (one authentication per request)
    and of the database's shared read transaction (one read transaction per request, webapp/db.py)."""

    def enter() -> None:
        g._sso_request_scope = request_scope()
        g._sso_request_scope.__enter__()
        g._sso_read_scope = read_scope()
        g._sso_read_scope.__enter__()

    def leave(_error: BaseException | None = None) -> None:
        for name in ("_sso_read_scope", "_sso_request_scope"):
            scope = g.pop(name, None)
            if scope is not None:
                scope.__exit__(None, None, None)

    app.before_request(enter)
    app.teardown_request(leave)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides what the environment says (tests pass theirs here)."""
    keep_large_buffers_out_of_the_heap()
    app = Flask(
        __name__,
        instance_path=str(INSTANCE),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(configuration(config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    service = create_service(app.config)
    app.extensions["sso_engine"] = service.ctx.engine
    app.extensions["sso"] = service
    init_request_scope(app)

    if app.config["SSO_TRUSTED_PROXIES"] > 0:
        hops = app.config["SSO_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    cli.init_app(app)
    ops.init_app(app)  # first: the request id and timing exist before any other hook or view
    init_http_hardening(app)
    init_static_files(app)
    init_api(app)
    init_scim(app)
    init_web(app)  # after the API: the console's CSRF protection exempts the API's blueprint
    init_i18n(app)  # after the console made the Jinja environment (with the shared compiled templates)
    return app
