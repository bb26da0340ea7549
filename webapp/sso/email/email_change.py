"""A change of one's own email on My account, confirmed at the new address (SPEC §11, `SSO_EMAIL_CHANGE_CONFIRM=1`).

With the setting on, a save of one's own account that sets a new email address does not write that
address: it emails a single-use link (stored hashed, expiring after `SSO_EMAIL_CHANGE_CONFIRM_HOURS`)
to the new address and stores the change as pending; the other fields of the same save are written
at once. Opening the link shows a button; confirming (a POST, in the owner's session: anyone else
signed in is refused, and someone signed out is asked to sign in as the owner) writes the address
through the normal update (`update.write_update`, its "update" audit record). A newer save of the email replaces an open
request. The message goes to the outbox in the save's transaction (issue 27): both are written or neither.
With the setting off, the save is exactly `update.update_user` (SPEC §2).

Only the console's My account comes here; the JSON API, the Python API and super-users on Manage user
write the email at once, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, update
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..accounts.update import RowMoved, check_update, update_user, write_update
from ..kernel.attributes import check_values, fold
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import Caller, authenticate, check_app
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, username_taken, version_conflict
from ..kernel.inputs import require_mapping
from ..kernel.presentation import UserData
from ..kernel.required_actions import KEY as ACTIONS_KEY
from ..kernel.required_actions import VERIFY_EMAIL, clear_stored, pending_of
from ..kernel.tables import email_tokens
from ..kernel.texts import _t
from . import tokens
from .mail import render, valid_for
from .outbox import enqueue

CONFIRM_PATH = "/account/email/confirm/"  # the console page a confirmation link opens


@dataclass
class AccountSaved:
    """A save of one's own account: the account as stored now, and the address waiting for its link (if any)."""

    user: UserData
    pending_email: str | None = None


@dataclass
class EmailChanged:
    """A confirmed email change."""

    user_id: str
    username: str
    email: str


def confirmation_needed(ctx: Context) -> bool:
    """Whether a change of one's own email waits for a link sent to the new address."""
    return bool(ctx.settings["SSO_EMAIL_CHANGE_CONFIRM"])


def link_refused() -> SSOError:
    """The link is unknown, expired, used, replaced by a newer one, or its account may not log in."""
    return SSOError.single(
        Kind.not_found,
        Code.invalid_input,
        "token",
        _t("this email-change link is not valid (it may have expired or been used already)"),
    )


def _needs_link(target: Mapping, clean: Mapping[str, Any]) -> bool:
    """A new address (not a clear, not the same mailbox with other letter case) must be confirmed."""
    new = clean.get("email")
    return isinstance(new, str) and fold(new) != fold(target["email"])


def save_own_account(
    ctx: Context, call: Call, data, *, expected_version, unchanged: Mapping[str, Any] | None = None
) -> AccountSaved:
    """Update the caller's own account with `data`; with the setting on, a new email waits for its link."""
    if not confirmation_needed(ctx):
        return AccountSaved(update_user(ctx, call, None, data, expected_version=expected_version, unchanged=unchanged))
    data = require_mapping(data)
    check = (call, None, data, expected_version, None, unchanged)
    with reading(ctx.engine) as conn:
        caller, target, clean = check_update(ctx, conn, *check)
    if not _needs_link(target, clean):
        user = update_user(ctx, call, None, data, expected_version=expected_version, unchanged=unchanged)
        if "email" in data:  # the newest save of the email wins over an open request
            with writing(ctx.engine) as conn:
                _close_open_links(conn, caller.user_id, ctx.clock())
        return AccountSaved(user)

    new_email = clean["email"]
    token, digest = tokens.new_token()
    now = ctx.clock()
    expires = now + timedelta(hours=ctx.settings["SSO_EMAIL_CHANGE_CONFIRM_HOURS"])
    audit_context = call.audit()
    pending = {"digest": digest, "token": token, "new_email": new_email, "now": now, "expires": expires}
    try:
        try:
            with writing(ctx.engine) as conn:
                return _write(ctx, conn, caller, target, clean, pending, audit_context)
        except RowMoved:
            if expected_version is not None:
                raise version_conflict() from None
        with writing(ctx.engine) as conn:  # someone saved meanwhile: check again with the row locked
            caller, target, clean = check_update(ctx, conn, *check, lock=True)
            return _write(ctx, conn, caller, target, clean, pending, audit_context)
    except IntegrityError:
        raise username_taken() from None


def _write(
    ctx: Context,
    conn: Connection,
    caller: Caller,
    target,
    clean: dict[str, Any],
    pending: dict[str, Any],
    audit_context: dict[str, Any],
) -> AccountSaved:
    """The other fields through the normal update, and the pending email with its audit record (one transaction)."""
    needs_link = _needs_link(target, clean)  # (not when the row moved on to this very address meanwhile)
    rest = {name: value for name, value in clean.items() if name != "email"} if needs_link else clean
    user = write_update(ctx, conn, caller, target, rest, audit_context)
    _close_open_links(conn, target["user_id"], pending["now"])
    if not needs_link:
        return AccountSaved(user)
    conn.execute(
        insert(email_tokens).values(
            token_hash=pending["digest"],
            purpose=tokens.EMAIL_CHANGE,
            user_id=target["user_id"],
            creation_time=pending["now"],
            expiration_time=pending["expires"],
            new_email=pending["new_email"],
        )
    )
    _send_link(ctx, conn, target, pending["new_email"], pending["token"], pending["expires"])
    record(
        conn,
        now=pending["now"],
        action="email_change_requested",
        actor_id=caller.user_id,
        target_id=target["user_id"],
        changes={"pending_email": change(None, pending["new_email"])},
        **audit_context,
    )
    return AccountSaved(user, pending["new_email"])


def _close_open_links(conn: Connection, user_id: str, now: datetime) -> None:
    """End every open email-change link of the user (a newer request or a direct save replaces them)."""
    conn.execute(
        update(email_tokens)
        .where(
            email_tokens.c.user_id == user_id,
            email_tokens.c.purpose == tokens.EMAIL_CHANGE,
            email_tokens.c.used_time.is_(None),
        )
        .values(used_time=now)
    )


def _send_link(ctx: Context, conn: Connection, target, new_email: str, token: str, expires: datetime) -> None:
    """The confirmation link, into the outbox in the save's own transaction."""
    settings = ctx.settings
    message = render(
        "email_change",
        new_email,
        product=settings["SSO_PRODUCT_NAME"],
        username=target["username"],
        link=settings["SSO_PUBLIC_URL"] + CONFIRM_PATH + token,
        valid_for=valid_for(settings["SSO_EMAIL_CHANGE_CONFIRM_HOURS"] * 60),
        expires_at=expires,
        locale=ctx.mailer.language(target) if ctx.mailer is not None else ctx.settings.get("SSO_DEFAULT_LOCALE", "en"),
    )
    enqueue(ctx, conn, message, user_id=target["user_id"])


# --- the link ----------------------------------------------------------------------------------------------


def check_link(ctx: Context, token: Any) -> tuple[str, str]:
    """(username, new address) of a usable email-change link (reads only); else `link_refused()`."""
    with reading(ctx.engine) as conn:
        row, user = tokens.open_link(conn, tokens.EMAIL_CHANGE, token, link_refused, now=ctx.clock())
    return user["username"], row["new_email"]


def not_the_owner() -> SSOError:
    """The link's account is not the signed-in one (issue 31 #4): nothing is written, the link stays usable."""
    return SSOError.single(
        Kind.forbidden, Code.auth_invalid, "token", _t("this link is for another account: sign in as its owner")
    )


def confirm_email_change(ctx: Context, call: Call, token) -> EmailChanged:
    """Write the pending address of a usable link through the normal update; the link is then used.

    Only the owner's session (`call.ust`) confirms (someone else signed in must not finish another person's
    change: the audit would name the owner); the face asks anyone else to sign in as the owner."""
    check_app(ctx, call.current_app)
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        row, user = tokens.open_link(conn, tokens.EMAIL_CHANGE, token, link_refused, now=now, lock=True)
        caller = authenticate(ctx, conn, call, completes=(VERIFY_EMAIL,))
        if caller.user_id != user["user_id"]:
            raise not_the_owner()
        used = conn.execute(
            update(email_tokens)
            .where(email_tokens.c.id == row["id"], email_tokens.c.used_time.is_(None))
            .values(used_time=now)
        )
        if used.rowcount != 1:  # a racing confirmation won
            raise link_refused()
        errors = FieldErrors()
        clean = check_values({"email": row["new_email"]}, errors)
        errors.raise_if_any(Kind.invalid)
        # The owner, signed in, proved they own the new address too: they are the actor.
        audit_context = call.audit()
        try:
            # the new address is proven too: SPEC §19's verify_email is done (audited in the same record)
            before = pending_of(conn, user)
            extra = {}
            if clear_stored(conn, user["user_id"], VERIFY_EMAIL):
                extra[ACTIONS_KEY] = change(before, [a for a in before if a != VERIFY_EMAIL])
            write_update(ctx, conn, caller, user, clean, audit_context, extra_changes=extra)
        except RowMoved:  # cannot happen with the row locked; never write half of it
            raise link_refused() from None
    return EmailChanged(user_id=user["user_id"], username=user["username"], email=row["new_email"])
