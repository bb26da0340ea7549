"""A live server (gunicorn, 2 workers, SQLite) per module, a super-user logged in over HTTP, and helpers
that do what Zato's test base class does (create and approve a user, log in)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from webapp import create_app
from webapp.sso import SSO

from ..conftest import FERNET_KEY, PASSWORD, app_config, fresh_database
from ..server import LiveServer, server_env
from .client import ZatoClient, random_data, random_username


@dataclass
class Zato:
    """What a Zato test has at hand: the client, the super-user's UST and id, and the service in-process."""

    client: ZatoClient
    super_user_ust: str
    super_user_id: str
    super_username: str
    sso: SSO
    db_url: str

    def create_and_approve_user(self, **extra) -> tuple[str, str, str]:
        """(user_id, username, password) of a new approved user, made over HTTP by the super-user."""
        username, password = random_username(), random_data()
        created = self.client.post(
            "/zato/sso/user", {"ust": self.super_user_ust, "username": username, "password": password, **extra}
        )
        self.approve(created.user_id)
        return created.user_id, username, password

    def approve(self, user_id: str) -> None:
        """Approve as the super-user (in-process: the approve endpoint belongs to the lifecycle area)."""
        self.sso.user.update_user_by_id(
            "t", user_id, {"approval_status": "approved"}, self.super_user_ust, "CRM", "127.0.0.1"
        )

    def login(self, username: str, password: str, **extra) -> str:
        return self.client.post("/zato/sso/user/login", {"username": username, "password": password, **extra}).ust


def start_zato(request, tmp_path_factory, **env: str):
    url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(app_config(url))
    sso = app.extensions["sso"]
    username = random_username()
    admin = sso.operator.create_local(username, PASSWORD, super_user=True)
    settings = {"SSO_LOGIN_MAX_FAILURES": "0", **env}
    with LiveServer(server_env(url, FERNET_KEY, **settings)) as server:
        client = ZatoClient(server.url)
        ust = client.post("/zato/sso/user/login", {"username": username, "password": PASSWORD}).ust
        me = client.get("/zato/sso/user", {"ust": ust})
        assert me.user_id == admin["user_id"]
        yield Zato(client, ust, me.user_id, username, sso, url)
    app.extensions["sso_engine"].dispose()


@pytest.fixture(scope="module")
def zato(request, tmp_path_factory):
    """One live server for the module; every test makes its own users and attributes."""
    yield from start_zato(request, tmp_path_factory)
