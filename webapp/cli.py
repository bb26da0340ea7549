"""Command line: `flask --app webapp init-db`, and `... sso COMMAND` for the administrator who is locked out or in
a hurry: create-super-user, create-user, unlock, set-password, list-users, grant-role, revoke-role,
end-sessions, reset-totp-key, export-audit, prune, delete-due, profile-schema export|import; and `worker`, the outbox's
delivery, and `run-policies`, the account policies (issue 27)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .sso import SSOError
from .sso.zato.importer import ImportFailed

sso_cli = AppGroup("sso", help="Manage SSO users.")
T = TypeVar("T")


def _password() -> str:
    from_env = os.environ.get("SSO_PASSWORD")
    if from_env:
        return from_env
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _failed(e: SSOError) -> click.ClickException:
    details = "; ".join(f"{field}: {message}" for field, message in e.errors.items())
    return click.ClickException(f"{', '.join(e.sub_status)} {details}".strip())


def _users():
    """The command line's operations (`sso.operator`): acting as nobody's account."""
    return current_app.extensions["sso"].operator


def _call(service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`service(*args, **kwargs)`; a refusal becomes this command's error (its codes and messages, exit 1)."""
    try:
        return service(*args, **kwargs)
    except SSOError as e:
        raise _failed(e) from None


def _create(username: str, super_user: bool, email: str | None) -> None:
    user = _call(_users().create_local, username, _password(), super_user=super_user, email=email)
    kind = "super-user" if super_user else "user"
    click.echo(f"Created {kind} {user['username']} ({user['user_id']}).")


@sso_cli.command("create-super-user")
@click.argument("username")
@click.option("--email", default=None, help="The super-user's email address.")
def create_super_user(username: str, email: str | None) -> None:
    """Create an approved super-user (password from a prompt or $SSO_PASSWORD)."""
    _create(username, True, email)


@sso_cli.command("create-user")
@click.argument("username")
@click.option("--email", default=None, help="The user's email address.")
def create_user(username: str, email: str | None) -> None:
    """Create an approved regular user (password from a prompt or $SSO_PASSWORD)."""
    _create(username, False, email)


@sso_cli.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Unlock a user (e.g. a super-user locked out); they log in again."""
    user = _call(_users().unlock_local, username)
    click.echo(f"Unlocked {user['username']} ({user['user_id']}).")


@sso_cli.command("set-password")
@click.argument("username")
def set_password(username: str) -> None:
    """Set a user's password (from a hidden prompt or $SSO_PASSWORD); all their sessions end."""
    _call(_users().user_id_of, username)  # a typo is told before the password is asked for
    _call(_users().set_password_local, username, _password())
    click.echo(f"Password of {username} set; their sessions have ended.")


@sso_cli.command("list-users")
def list_users() -> None:
    """List every user: username, id, role and what decides whether they can log in."""
    rows = _users().list_local()
    for row in rows:
        role = "super-user" if row["is_super_user"] else "user"
        state = ", ".join(
            filter(
                None,
                [
                    row["approval_status"],
                    "locked" if row["is_locked"] else "",
                    "" if row["sign_up_status"] == "final" else "sign-up not confirmed",
                ],
            )
        )
        click.echo(f"{row['username']}\t{row['user_id']}\t{role}\t{state}\t{row['email'] or ''}")
    click.echo(f"{len(rows)} user(s).", err=True)


@sso_cli.command("grant-role")
@click.argument("username")
@click.argument("role")
def grant_role(username: str, role: str) -> None:
    """Give a user a role (SPEC §17: helpdesk, auditor, user-admin or one of yours)."""
    held = _call(_users().grant_role_local, username, role)
    click.echo(f"{username} holds: {', '.join(held)}.")


@sso_cli.command("revoke-role")
@click.argument("username")
@click.argument("role")
def revoke_role(username: str, role: str) -> None:
    """Take a role from a user (never the last usable holder of roles.manage without a usable super-user)."""
    held = _call(_users().revoke_role_local, username, role)
    click.echo(f"{username} holds: {', '.join(held) or 'no role'}.")


@sso_cli.command("end-sessions")
@click.argument("username")
def end_sessions(username: str) -> None:
    """End every session of a user (they must log in again)."""
    count = _call(_users().end_sessions_local, username)
    click.echo(f"Ended {count} session(s) of {username}.")


@sso_cli.command("delete-due")
def delete_due() -> None:
    """Delete the accounts whose owners asked for it and whose grace period is over (run it from cron, e.g.
    hourly); each as SPEC §8's delete, the person as the actor."""
    outcomes = _call(_users().delete_due)
    for username, outcome in outcomes:
        click.echo(f"{username}\t{outcome}")
    deleted = sum(1 for _, outcome in outcomes if outcome == "deleted")
    click.echo(f"Deleted {deleted} account(s) due for deletion.", err=True)
    if deleted != len(outcomes):
        sys.exit(1)


@sso_cli.command("run-policies")
@click.option("--dry-run", is_flag=True, help="Only say whom a run now would warn and act on; write nothing.")
def run_policies(dry_run: bool) -> None:
    """Run the account policies switched on in the console (lock after N days without a sign-in, delete
    sign-ups unconfirmed after N days, warn before either) and carry out the deletions that are due, as
    delete-due does (run it from cron, e.g. hourly; safe on several nodes at once)."""
    if dry_run:
        found = _call(_users().policy_dry_run)
        for name in found.act_count:
            click.echo(f"{name}: would act on {found.act_count[name]}, would warn {found.warn_count[name]}")
            for entry in found.act[name]:
                click.echo(f"  act\t{entry.username}\tdue {entry.due_time:%Y-%m-%d %H:%M:%S} UTC")
            for entry in found.warn[name]:
                click.echo(f"  warn\t{entry.username}\tdue {entry.due_time:%Y-%m-%d %H:%M:%S} UTC")
        return
    report = _call(_users().run_policies)
    for username, outcome in report.scheduled_deletions:
        click.echo(f"{username}\t{outcome}")
    for username, outcome in report.done:
        click.echo(f"{username}\t{outcome}")
    for username, why in report.refused:
        click.echo(f"{username}\tnot done: {why}")
    click.echo(
        f"Policies: {len(report.done)} done, {len(report.refused)} refused, {report.skipped} already done or "
        f"no longer due; scheduled deletions: {len(report.scheduled_deletions)}.",
        err=True,
    )
    if report.refused or any(outcome != "deleted" for _, outcome in report.scheduled_deletions):
        sys.exit(1)


@sso_cli.command("reset-totp-key")
@click.argument("username")
@click.option("--key", default=None, help="The base32 key to set (default: a new random one).")
def reset_totp_key(username: str, key: str | None) -> None:
    """Set a user's TOTP key (or a new random one) and print it."""
    user, stored = _call(_users().reset_totp_key_local, username, key)
    state = "on" if user["is_totp_enabled"] else "off (turn it on in the console or with is_totp_enabled)"
    click.echo(f"TOTP key of {user['username']}: {stored}")
    click.echo(f"Two-factor sign-in is {state}.")


def _parse_since(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00") from None
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


@sso_cli.command("export-audit")
@click.option("--since", callback=_parse_since, help="Only records from this UTC date or date-time on.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="A file instead of stdout.")
def export_audit(since: datetime | None, fmt: str, output: str | None) -> None:
    """Write the audit trail, oldest first, streaming (memory stays flat however long it is)."""
    chunks = current_app.extensions["sso"].export_audit(since=since, fmt=fmt)
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    with open(output, "w", encoding="utf-8", newline="") as target:
        for chunk in chunks:
            target.write(chunk)


profile_schema_cli = AppGroup("profile-schema", help="Export or import the profile fields' definitions (JSON).")
sso_cli.add_command(profile_schema_cli)


@profile_schema_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
def profile_schema_export(file: str) -> None:
    """Write every profile field's definition to FILE as JSON (`-`: stdout), for version control."""
    definitions = _call(_users().export_profile_schema)
    text = json.dumps(definitions, indent=2, ensure_ascii=False) + "\n"
    if file == "-":
        sys.stdout.write(text)
        return
    with open(file, "w", encoding="utf-8") as target:
        target.write(text)
    click.echo(f"Exported {len(definitions)} profile field(s) to {file}.")


@profile_schema_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Print what would change, change nothing.")
def profile_schema_import(file: str, dry_run: bool) -> None:
    """Make the definitions those of FILE (fields it does not list are left alone); prints the diff.
    Idempotent: a second run prints that nothing changed. All or nothing: a change stored values would
    break is refused, and then nothing of FILE is applied; --dry-run refuses (exit 1) what the real run would."""
    try:
        with click.open_file(file, encoding="utf-8") as source:
            definitions = json.load(source)
    except ValueError as e:
        raise click.ClickException(f"{file} is not JSON: {e}") from None
    lines = _call(_users().import_profile_schema, definitions, dry_run=dry_run)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("Nothing to change: the definitions are already those of the file.")
    elif dry_run:
        click.echo(f"Dry run: {len(lines)} change(s) would be made, none refused; nothing was written.")


@sso_cli.command("prune")
def prune() -> None:
    """Delete expired sessions, old failed-login marks and audit records older than SSO_AUDIT_RETENTION_DAYS
    (0 keeps them all). Short transactions: safe from cron while the service runs."""
    for name, count in current_app.extensions["sso"].prune().items():
        click.echo(f"{name}: {count} removed")


@sso_cli.command("create-api-client")
@click.argument("name")
def create_api_client(name: str) -> None:
    """Create an API client (HTTP Basic) to link to a user; secret from $SSO_PASSWORD or generated."""
    sso = current_app.extensions["sso"]
    given = os.environ.get("SSO_PASSWORD") or None
    try:
        secret = sso.operator.create_api_client(name, given)
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
        current_app.extensions["sso"].operator.revoke_api_client(name)
    except SSOError as e:
        raise click.ClickException("; ".join(f"{field}: {message}" for field, message in e.errors.items())) from None
    click.echo(f"Revoked API client {name}.")


@sso_cli.command("create-scim-client")
@click.argument("name")
@click.option("--role", required=True, help="The role (SPEC §17) whose permissions it acts with.")
def create_scim_client(name: str, role: str) -> None:
    """Create a SCIM client (a directory provisioning users over /scim/v2/); prints its bearer token once."""
    try:
        token = current_app.extensions["sso"].operator.create_scim_client(name, role)
    except SSOError as e:
        raise click.ClickException("; ".join(f"{field}: {message}" for field, message in e.errors.items())) from None
    click.echo(f"Created SCIM client {name} (role {role}).")
    click.echo(f"Its bearer token (shown only now): {token}")


@sso_cli.command("revoke-scim-client")
@click.argument("name")
def revoke_scim_client(name: str) -> None:
    """Delete a SCIM client: its token stops working at once."""
    try:
        current_app.extensions["sso"].operator.revoke_scim_client(name)
    except SSOError as e:
        raise click.ClickException("; ".join(f"{field}: {message}" for field, message in e.errors.items())) from None
    click.echo(f"Revoked SCIM client {name}.")


@sso_cli.command("import-zato")
@click.argument("source_database_url")
@click.option("--zato-secret-key", default=None, help="The Zato server's Fernet key, to decrypt its columns.")
@click.option("--dry-run", is_flag=True, help="Report what would be imported without writing anything.")
def import_zato(source_database_url: str, zato_secret_key: str | None, dry_run: bool) -> None:
    """Copy users (with attributes) from a Zato 3.x ODB; passwords keep working (SPEC §15)."""
    try:
        summary = current_app.extensions["sso"].operator.import_zato(
            source_database_url, zato_secret_key=zato_secret_key, dry_run=dry_run
        )
    except ImportFailed as e:
        raise click.ClickException(str(e)) from None
    for line in summary.lines():
        click.echo(line)


@sso_cli.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (instead of running until stopped).")
def worker(once: bool) -> None:
    """Deliver the outbox's emails (issue 27) until SIGTERM or Ctrl-C; run it beside the web server."""
    import signal
    import threading

    from .sso.email.mail import Mailer
    from .sso.email.worker import Worker, run_until_empty

    ctx = current_app.extensions["sso"].ctx
    mailer = ctx.mailer or Mailer(current_app.config)
    if once:
        click.echo(f"Tried {run_until_empty(ctx, mailer)} message(s).")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    Worker(ctx, mailer, stop=stop).run()


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
