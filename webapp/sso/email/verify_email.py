"""Confirming one's email address (SPEC §19's `verify_email` required action): a single-use link sent to the
current address; opening it proves the person reads that mailbox and clears the action.

The link names the address it was sent to: if the account's address changed since, the link is refused.
Sending asks nothing more than a signed-in session (it is the person's own address), at most once a minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from ...db import writing
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import authenticate, check_app
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError
from ..kernel.required_actions import KEY as ACTIONS_KEY
from ..kernel.required_actions import VERIFY_EMAIL, clear_stored, pending_of
from ..kernel.tables import email_tokens
from ..kernel.texts import _t
from . import tokens
from .mail import render, valid_for
from .outbox import enqueue

VERIFY_PATH = "/account/verify-email/"  # the console page a link opens
PURPOSE = "verify_email"
LINK_HOURS = 48
RESEND_AFTER = timedelta(minutes=1)


def link_refused() -> SSOError:
    """The link is unknown, used, expired, or its address is no longer the account's."""
    return SSOError.single(
        Kind.invalid, Code.invalid_input, "token", _t("this link is not valid any more: ask for a new one")
    )


def send_verification(ctx: Context, call: Call) -> str:
    """Email a confirmation link to the caller's current address (allowed while `verify_email` waits);
    returns the address. E008002 naming `email` when there is none, or a link went out under a minute ago."""
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(VERIFY_EMAIL,))
        user = caller.user
        if not user["email"]:
            raise SSOError.single(
                Kind.invalid, Code.invalid_input, "email", _t("the account has no email address to confirm")
            )
        recent = conn.execute(
            select(email_tokens.c.id).where(
                email_tokens.c.user_id == user["user_id"],
                email_tokens.c.purpose == PURPOSE,
                email_tokens.c.creation_time > now - RESEND_AFTER,
            )
        ).first()
        if recent is not None:
            too_soon = _t("a link was sent less than a minute ago: check your inbox")
            raise SSOError.single(Kind.invalid, Code.invalid_input, "email", too_soon)
        conn.execute(  # an earlier link stops working: only the newest confirms
            update(email_tokens)
            .where(
                email_tokens.c.user_id == user["user_id"],
                email_tokens.c.purpose == PURPOSE,
                email_tokens.c.used_time.is_(None),
            )
            .values(used_time=now)
        )
        expires = now + timedelta(hours=LINK_HOURS)
        token = tokens.issue(conn, PURPOSE, user["user_id"], now, expires, new_email=user["email"])
        settings = ctx.settings
        message = render(
            "verify_email",
            user["email"],
            product=settings["SSO_PRODUCT_NAME"],
            username=user["username"],
            link=settings["SSO_PUBLIC_URL"] + VERIFY_PATH + token,
            valid_for=valid_for(LINK_HOURS * 60),
            expires_at=expires,
            locale=ctx.mailer.language(user) if ctx.mailer is not None else settings.get("SSO_DEFAULT_LOCALE", "en"),
        )
        enqueue(ctx, conn, message, user_id=user["user_id"])
        record(
            conn,
            now=now,
            **call.audit(),
            action="verify_email_sent",
            actor_id=user["user_id"],
            target_id=user["user_id"],
            changes={},
        )
        return user["email"]


def confirm_verification(ctx: Context, call: Call, token: Any) -> str:
    """Use a confirmation link: the address is confirmed and `verify_email` cleared; returns the username.
    No session is needed (the link proves the mailbox); a stale link → `link_refused()`."""
    check_app(ctx, call.current_app)
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        row, user = tokens.open_link(conn, PURPOSE, token, link_refused, now=now, lock=True)
        if (user["email"] or "").casefold() != (row["new_email"] or "").casefold():
            raise link_refused()
        conn.execute(update(email_tokens).where(email_tokens.c.id == row["id"]).values(used_time=now))
        before = pending_of(conn, user)
        changes: dict[str, Any] = {"email_verified": change(None, user["email"])}
        if clear_stored(conn, user["user_id"], VERIFY_EMAIL):
            changes[ACTIONS_KEY] = change(before, [a for a in before if a != VERIFY_EMAIL])
        record(
            conn,
            now=now,
            **call.audit(),
            action="email_verified",
            actor_id=user["user_id"],
            target_id=user["user_id"],
            changes=changes,
        )
    return user["username"]
