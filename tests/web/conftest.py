"""Web console fixtures: a test client, and clients logged in through the login form.

The console's tests run on SQLite: what a page shows and how a form is read is no database rule, and every
rule below the pages is tested on both databases in tests/core. A case that is about the database (the SQL a
request sends, inputs only a database refuses, many rows) widens it with
`@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)`."""

from __future__ import annotations

import pytest

from ..conftest import PASSWORD, database_for
from .html_forms import form

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path):
    """A fresh, migrated SQLite database (PostgreSQL too for a case marked BOTH_DATABASES)."""
    return database_for(request.param, request, tmp_path)


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
