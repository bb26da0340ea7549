"""Fixtures of the JSON API tests: a gunicorn server per module and database, and a client that talks
to it the way Zato clients do (a JSON body on every method, no Content-Type)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests

from webapp import create_app
from webapp.sso.kernel.context import utcnow

from ..conftest import FAST_WORKER_ENV, FERNET_KEY, PASSWORD, app_config, fresh_database
from ..server import LiveServer, server_env

APP = "CRM"
SERVER_ERROR = re.compile(r'^.*"[A-Z]+ [^"]*" 5\d\d .*$', re.MULTILINE)  # a 5xx in gunicorn's access log


def unique(prefix: str) -> str:
    """A username no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


class Api:
    """A client of the live server: bodies are raw JSON with no Content-Type, as Zato clients send them."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        ust: str | None = None,
        headers=None,
        params=None,
        raw: bytes | str | None = None,
    ) -> requests.Response:
        """One request; `body` is sent as JSON text, `raw` as it is; `ust` goes in an Authorization header."""
        sent = dict(headers or {})
        if ust is not None:
            sent["Authorization"] = f"Bearer {ust}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        return self.http.request(
            method, self.base_url + "/zato/sso/" + path, data=data, headers=sent, params=params, timeout=30
        )


@dataclass
class Site:
    """A running server, its database seen in-process, and a super-user's session."""

    api: Api
    sso: Any
    url: str
    db_kind: str
    admin: dict = field(default_factory=dict)
    admin_ust: str = ""

    def login(self, username: str, password: str = PASSWORD) -> str:
        """A UST made in-process (the server shares the database and the Fernet key)."""
        return self.sso.user.login("test", username, password, APP, "127.0.0.1").ust

    def new_user(
        self, prefix: str = "user", *, super_user: bool = False, login: bool = True, **attributes: Any
    ) -> tuple[dict, str | None]:
        """A fresh approved user (password PASSWORD), its extra attributes set by the admin; and its UST."""
        user = self.sso.operator.create_local(unique(prefix), PASSWORD, super_user=super_user)
        ust = self.login(user["username"]) if login else None
        if attributes:
            self.set(user["user_id"], **attributes)
        return user, ust

    def set(self, user_id: str, **attributes: Any) -> dict:
        """Set attributes in-process, as the admin."""
        return self.sso.user.update_user_by_id("test", user_id, attributes, self.admin_ust, APP, "127.0.0.1")

    def get(self, user_id: str) -> dict:
        """A user as the admin sees it, read in-process."""
        return self.sso.user.get_user_by_id("test", user_id, self.admin_ust, APP, "127.0.0.1")

    def expire_password(self, user_id: str, days_from_now: float) -> None:
        self.set(user_id, password_expiry=utcnow() + timedelta(days=days_from_now))


def start_site(kind: str, request: pytest.FixtureRequest, tmp_path_factory, **env: str):
    """Yield a Site: a fresh database, an admin, and gunicorn (2 workers) serving it."""
    url = fresh_database(kind, request, tmp_path_factory)
    app = create_app(app_config(url))
    sso = app.extensions["sso"]
    site = Site(api=Api(""), sso=sso, url=url, db_kind=kind)
    site.admin = sso.operator.create_local(unique("admin"), PASSWORD, super_user=True)
    site.admin_ust = site.login(site.admin["username"])
    settings = {"SSO_LOGIN_MAX_FAILURES": "0", **env}
    emailing = "SSO_SMTP_URL" in env  # then the outbox's worker runs beside gunicorn
    if emailing:
        settings = {**FAST_WORKER_ENV, **settings}
    with LiveServer(server_env(url, FERNET_KEY, **settings), worker=emailing) as server:
        site.api = Api(server.url)
        yield site
    app.extensions["sso_engine"].dispose()
    server_errors = SERVER_ERROR.findall(server.log.read_text())
    assert not server_errors, f"the server answered {len(server_errors)} request(s) with a 5xx; see {server.log}"


@pytest.fixture(scope="session", params=["sqlite"])
def site(request, tmp_path_factory):
    """A live server on SQLite, shared by the end-to-end modules (each test makes its own users).

    The rules behind every endpoint are tested on both databases at the service layer; a module whose
    case is about the database (concurrency) widens this with `params=["sqlite", "postgresql"]`."""
    yield from start_site(request.param, request, tmp_path_factory)
