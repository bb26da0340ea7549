"""The command line: `flask --app webapp init-db` and `flask --app webapp sso create-super-user NAME`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from webapp import create_app

from ..conftest import FERNET_KEY
from ..conftest import app_config as config_for
from .helpers import ADDR, APP, CID, PASSWORD, row_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_app(empty_db_url):
    application = create_app(config_for(empty_db_url))
    yield application
    application.extensions["sso_engine"].dispose()


def tables(app) -> set[str]:
    return set(inspect(app.extensions["sso_engine"]).get_table_names())


def test_init_db_creates_the_schema_and_running_it_again_changes_nothing(fresh_app):
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert {"sso_user", "sso_session", "sso_audit", "sso_login_failure"} <= tables(fresh_app)
    fresh_app.extensions["sso"].operator.create_local("keeper", PASSWORD, super_user=False)
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output
    found = fresh_app.extensions["sso"].user.login(CID, "keeper", PASSWORD, APP, ADDR)
    assert found.status == "ok"


def test_the_real_flask_command_runs_init_db_twice(empty_db_url):
    env = {**os.environ, "SECRET_KEY": "cli-test-secret", "SSO_FERNET_KEYS": FERNET_KEY, "DATABASE_URL": empty_db_url}
    flask = [sys.executable, "-m", "flask", "--app", "webapp", "init-db"]
    for _ in range(2):
        done = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "up to date" in done.stdout


def test_create_super_user_makes_an_approved_super_user_who_can_log_in(app, sso):
    result = app.test_cli_runner().invoke(args=["sso", "create-super-user", "root"], env={"SSO_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert "Created super-user root" in result.output and PASSWORD not in result.output
    login = sso.user.login(CID, "root", PASSWORD, APP, ADDR)
    stored = row_of(sso, login.user_id)
    assert (stored["is_super_user"], stored["approval_status"], stored["sign_up_status"], stored["is_locked"]) == (
        True,
        "approved",
        "final",
        False,
    )
    found = sso.user.search(CID, {"username": "root"}, login.ust, APP, ADDR)
    assert found["total"] == 1


def test_create_super_user_asks_for_the_password_twice_without_the_environment(app, sso):
    result = app.test_cli_runner().invoke(
        args=["sso", "create-super-user", "root"], env={"SSO_PASSWORD": None}, input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert sso.user.login(CID, "root", PASSWORD, APP, ADDR).status == "ok"


def test_create_user_makes_a_regular_approved_user(app, sso):
    result = app.test_cli_runner().invoke(args=["sso", "create-user", "bob"], env={"SSO_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    stored = row_of(sso, sso.user.login(CID, "bob", PASSWORD, APP, ADDR).user_id)
    assert (stored["is_super_user"], stored["approval_status"]) == (False, "approved")


def test_a_taken_username_is_a_clear_error_and_a_non_zero_exit(app, make_user):
    make_user("root")
    result = app.test_cli_runner().invoke(args=["sso", "create-super-user", "ROOT"], env={"SSO_PASSWORD": PASSWORD})
    assert result.exit_code != 0
    assert "E001002" in result.output and "already taken" in result.output


@pytest.mark.parametrize("weak, code", [("short", "E003002"), ("my-password-1", "E003001")])
def test_a_weak_password_is_a_clear_error_and_creates_nobody(app, sso, weak, code):
    result = app.test_cli_runner().invoke(args=["sso", "create-super-user", "root"], env={"SSO_PASSWORD": weak})
    assert result.exit_code != 0
    assert code in result.output and "password" in result.output and weak not in result.output
    assert (
        app.test_cli_runner()
        .invoke(args=["sso", "create-super-user", "root"], env={"SSO_PASSWORD": PASSWORD})
        .exit_code
        == 0
    )


def test_a_username_with_whitespace_is_refused(app):
    result = app.test_cli_runner().invoke(args=["sso", "create-super-user", "ro ot"], env={"SSO_PASSWORD": PASSWORD})
    assert result.exit_code != 0
    assert "username" in result.output and "whitespace" in result.output
