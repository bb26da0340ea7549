"""Web console fixtures: a test client, and clients logged in through the login form."""

from __future__ import annotations

import pytest

from ..conftest import PASSWORD
from .html_forms import form


def web_login(client, username: str, password: str = PASSWORD):
    """Log in through the login page, as a person would; returns the response to the POST."""
    login_form = form(client, "/login", "login-form")
    login_form.fill("username", username).fill("password", password)
    return login_form.submit(client)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin_client(app, make_user):
    """A super-user `admin` logged in to the console: (client, user)."""
    user = make_user("admin", super_user=True)
    client = app.test_client()
    assert web_login(client, "admin").status_code == 303
    return client, user


@pytest.fixture
def alice_client(app, make_user):
    """A regular user `alice` logged in to the console: (client, user)."""
    user = make_user("alice")
    client = app.test_client()
    assert web_login(client, "alice").status_code == 303
    return client, user


@pytest.fixture
def admin_ust(sso, make_user):
    """A UST of a second super-user, `root`, acting through the Python API (the "someone else")."""
    make_user("root", super_user=True)
    return sso.user.login("cid", "root", PASSWORD, "CRM", "10.0.0.9").ust
