"""Command line: `flask --app webapp init-db`, `... sso create-super-user NAME`, `... sso create-user NAME`,
`... sso reset-totp-key NAME [--key KEY]`."""
from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .sso import SSOError

sso_cli = AppGroup("sso", help="Manage SSO users.")


def _password() -> str:
    from_env = os.environ.get("SSO_PASSWORD")
    if from_env:
        return from_env
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _failed(e: SSOError) -> click.ClickException:
    details = "; ".join(f"{field}: {message}" for field, message in e.errors.items())
    return click.ClickException(f"{', '.join(e.sub_status)} {details}".strip())


def _create(username: str, super_user: bool) -> None:
    sso = current_app.extensions["sso"]
    try:
        user = sso.user.create_local(username, _password(), super_user=super_user)
    except SSOError as e:
        raise _failed(e) from None
    kind = "super-user" if super_user else "user"
    click.echo(f"Created {kind} {user['username']} ({user['user_id']}).")


@sso_cli.command("create-super-user")
@click.argument("username")
def create_super_user(username: str) -> None:
    """Create an approved super-user (password from a prompt or $SSO_PASSWORD)."""
    _create(username, True)


@sso_cli.command("create-user")
@click.argument("username")
def create_user(username: str) -> None:
    """Create an approved regular user (password from a prompt or $SSO_PASSWORD)."""
    _create(username, False)


@sso_cli.command("reset-totp-key")
@click.argument("username")
@click.option("--key", default=None, help="The base32 key to set (default: a new random one).")
def reset_totp_key(username: str, key: str | None) -> None:
    """Set a user's TOTP key (or a new random one) and print it."""
    sso = current_app.extensions["sso"]
    try:
        user, stored = sso.user.reset_totp_key_local(username, key)
    except SSOError as e:
        raise _failed(e) from None
    state = "on" if user["is_totp_enabled"] else "off (turn it on in the console or with is_totp_enabled)"
    click.echo(f"TOTP key of {user['username']}: {stored}")
    click.echo(f"Two-factor sign-in is {state}.")


@click.command("init-db")
@with_appcontext  # `flask` pushes one itself, but app.test_cli_runner() and other callers do not
def init_db() -> None:
    """Create the database schema or upgrade it to the newest revision."""
    from .schema import upgrade  # Alembic (+ Mako, Pygments: ~10 MiB) only here, never in a worker
    upgrade(current_app.extensions["sso_engine"])
    click.echo("Database schema is up to date.")


def init_app(app: Flask) -> None:
    """Register the commands on `app`."""
    app.cli.add_command(init_db)
    app.cli.add_command(sso_cli)
