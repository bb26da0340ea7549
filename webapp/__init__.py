"""The SSO user-account service: `create_app()` builds the Flask app and its service layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, ops
from . import config as settings
from .api import init_app as init_api
from .db import make_engine
from .http_hardening import init_http_hardening
from .memory import keep_large_buffers_out_of_the_heap
from .sso import SSO, Context
from .sso.authn import init_request_scope
from .sso.mail import Mailer
from .sso.tokens import TokenCodec
from .static_files import init_static_files
from .version import __version__
from .web import init_app as init_web

__all__ = ["ROOT", "__version__", "create_app"]

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides what the environment says (tests pass theirs here)."""
    keep_large_buffers_out_of_the_heap()
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings.from_environment(app.instance_path))
    app.config.update(config or {})
    settings.check(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    engine = make_engine(app.config["DATABASE_URL"], app.config)
    mailer = Mailer(app.config)
    ctx = Context(engine=engine, codec=TokenCodec(app.config["SSO_FERNET_KEYS"]), settings=app.config, mailer=mailer)
    app.extensions["sso_engine"] = engine
    app.extensions["sso"] = SSO(ctx)
    init_request_scope(app, engine)

    if app.config["SSO_TRUSTED_PROXIES"] > 0:
        hops = app.config["SSO_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    mailer.announce()
    cli.init_app(app)
    ops.init_app(app)  # first: the request id and timing exist before any other hook or view
    init_http_hardening(app)
    init_static_files(app)
    init_api(app)
    init_web(app)  # after the API: the console's CSRF protection exempts the API's blueprint
    return app
