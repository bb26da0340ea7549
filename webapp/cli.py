"""Command line: `flask --app webapp init-db`, `... sso create-super-user NAME`, `... sso create-user NAME`."""
from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .schema import upgrade
from .sso import SSOError
from .sso.zato_import import ImportFailed

sso_cli = AppGroup("sso", help="Manage SSO users.")


def _password() -> str:
    from_env = os.environ.get("SSO_PASSWORD")
    if from_env:
        return from_env
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _create(username: str, super_user: bool) -> None:
    sso = current_app.extensions["sso"]
    try:
        user = sso.user.create_local(username, _password(), super_user=super_user)
    except SSOError as e:
        details = "; ".join(f"{field}: {message}" for field, message in e.errors.items())
        raise click.ClickException(f"{', '.join(e.sub_status)} {details}".strip()) from None
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


@sso_cli.command("create-api-client")
@click.argument("name")
def create_api_client(name: str) -> None:
    """Create an API client (HTTP Basic) to link to a user; secret from $SSO_PASSWORD or generated."""
    sso = current_app.extensions["sso"]
    given = os.environ.get("SSO_PASSWORD") or None
    try:
        secret = sso.user.create_api_client(name, given)
    except SSOError as e:
        raise click.ClickException("; ".join(f"{field}: {message}" for field, message in e.errors.items())) from None
    click.echo(f"Created API client {name}.")
    if given is None:
        click.echo(f"Its secret (shown only now): {secret}")


@sso_cli.command("revoke-api-client")
@click.argument("name")
def revoke_api_client(name: str) -> None:
    """Delete an API client, its link and the link's session."""
    try:
        current_app.extensions["sso"].user.revoke_api_client(name)
    except SSOError as e:
        raise click.ClickException("; ".join(f"{field}: {message}" for field, message in e.errors.items())) from None
    click.echo(f"Revoked API client {name}.")


@sso_cli.command("import-zato")
@click.argument("source_database_url")
@click.option("--zato-secret-key", default=None, help="The Zato server's Fernet key, to decrypt its columns.")
@click.option("--dry-run", is_flag=True, help="Report what would be imported without writing anything.")
def import_zato(source_database_url: str, zato_secret_key: str | None, dry_run: bool) -> None:
    """Copy users (with attributes) from a Zato 3.x ODB; passwords keep working (SPEC §15)."""
    try:
        summary = current_app.extensions["sso"].user.import_zato(source_database_url, zato_secret_key=zato_secret_key,
                                                                 dry_run=dry_run)
    except ImportFailed as e:
        raise click.ClickException(str(e)) from None
    for line in summary.lines():
        click.echo(line)


@click.command("init-db")
@with_appcontext  # `flask` pushes one itself, but app.test_cli_runner() and other callers do not
def init_db() -> None:
    """Create the database schema or upgrade it to the newest revision."""
    upgrade(current_app.extensions["sso_engine"])
    click.echo("Database schema is up to date.")


def init_app(app: Flask) -> None:
    """Register the commands on `app`."""
    app.cli.add_command(init_db)
    app.cli.add_command(sso_cli)
