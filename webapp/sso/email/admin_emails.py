"""Emails an administrator sends to a user (issue 27, SPEC §19): a password-reset link, the sign-up confirmation
again, a verify-email link.

Each is one call for one user: the caller's permission (`users.credentials` for the reset and verify links,
`users.approve` for the sign-up confirmation, which is about the sign-up's status), never on an administrator
stronger than the caller (SPEC §17); a state where the message makes no sense is refused naming why (no such user,
no email address, a sign-up already confirmed, an account that could not use a reset link, a deletion scheduled).
The token, the message (into the outbox) and the audit record are written in one transaction. The verify-email link
is the one the person's own `verify_email` required action sends (`verify_email.py`: its page confirms the address
and clears the action). Throttled per user:
at most `SSO_ADMIN_EMAIL_MAX_PER_USER` such emails to one user within `SSO_PASSWORD_RESET_WINDOW` seconds, whoever
sends them (the marks are `mail_requests` rows, as the self-service reset's are; 0 turns the limit off).

Each message goes out in the recipient's language (their `locale`, else `SSO_DEFAULT_LOCALE`: never the
administrator's page language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ...db import reading, writing
from ..credentials.throttle import lock_keys
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, no_such_user
from ..kernel.permissions import USERS_APPROVE, USERS_CREDENTIALS, require, require_over
from ..kernel.rows import load_user
from ..kernel.tables import email_tokens, mail_requests
from ..kernel.texts import _nt, _t
from . import tokens
from .mail import mail_language, render, valid_for
from .outbox import enqueue
from .reset import RESET_PATH
from .signup import CONFIRM_PATH
from .verify_email import LINK_HOURS as VERIFY_HOURS
from .verify_email import PURPOSE as VERIFY_PURPOSE
from .verify_email import VERIFY_PATH

PASSWORD_RESET, SIGNUP_CONFIRMATION, VERIFY_EMAIL = "password_reset", "signup_confirmation", "verify_email"
KINDS = (PASSWORD_RESET, SIGNUP_CONFIRMATION, VERIFY_EMAIL)
PERMISSION_OF = {PASSWORD_RESET: USERS_CREDENTIALS, SIGNUP_CONFIRMATION: USERS_APPROVE, VERIFY_EMAIL: USERS_CREDENTIALS}
AUDIT_ACTION = {
    PASSWORD_RESET: "reset_link_sent",
    SIGNUP_CONFIRMATION: "signup_link_sent",
    VERIFY_EMAIL: "verify_link_sent",
}
THROTTLE_PREFIX = "admin:u:"


@dataclass(frozen=True)
class Sent:
    """An administrator's email queued: to whom, and the outbox's Message-ID."""

    user_id: str
    username: str
    email: str
    kind: str
    message_id: str


def check_kind(kind: Any) -> str:
    """`kind` if it is one of KINDS, else E008002 naming `kind`."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise SSOError.single(
            Kind.invalid, Code.invalid_input, "kind", _t("must be one of %(choices)s", choices=", ".join(KINDS))
        )
    return kind


def recipient_language(ctx: Context, user: Any) -> str:
    """The recipient's language for a message nobody of theirs asked for: their `locale`, else the default."""
    return mail_language(user["locale"], ctx.settings.get("SSO_DEFAULT_LOCALE") or "en")


def refusal(user: Any, kind: str) -> str | None:
    """Why `kind` makes no sense for `user` now (None: it can be sent)."""
    if not user["email"]:
        return _t("this user has no email address")
    if user["deletion_time"] is not None:
        return _t("this user's account is scheduled for deletion")
    if kind == SIGNUP_CONFIRMATION and user["sign_up_status"] == "final":
        return _t("this user's sign-up is already confirmed")
    if kind == PASSWORD_RESET and not tokens.may_log_in(user):
        return _t("this account cannot sign in (locked, not approved or not confirmed): a reset link would not work")
    if kind == VERIFY_EMAIL and user["sign_up_status"] != "final":
        return _t("this user's sign-up is not confirmed yet: send the sign-up confirmation instead")
    if kind == VERIFY_EMAIL and not tokens.may_log_in(user):
        return _t("this account cannot sign in (locked or not approved): the link would not work")
    return None


def _refused(user: Any, kind: str) -> SSOError | None:
    reason = refusal(user, kind)
    if reason is None:
        return None
    code = Code.signup_confirmed if kind == SIGNUP_CONFIRMATION and user["sign_up_status"] == "final" else None
    return SSOError.single(Kind.invalid if code is None else Kind.conflict, code or Code.invalid_input, "kind", reason)


# --- throttling --------------------------------------------------------------------------------------------


def _throttle_key(user_id: str) -> str:
    return THROTTLE_PREFIX + user_id


def _check_throttle(ctx: Context, conn: Connection, user_id: str, now: datetime) -> None:
    """E008002 (HTTP 429) naming the limit when the user already got the most emails an administrator may send
    within the window; else counts this one (inside the sending transaction, the key locked)."""
    limit = ctx.settings.get("SSO_ADMIN_EMAIL_MAX_PER_USER", 3)
    if limit <= 0:
        return
    window = ctx.settings["SSO_PASSWORD_RESET_WINDOW"]
    since = now - timedelta(seconds=window)
    key = _throttle_key(user_id)
    lock_keys(conn, [key])
    times = list(
        conn.execute(
            select(mail_requests.c.time)
            .where(mail_requests.c.key == key, mail_requests.c.time > since)
            .order_by(mail_requests.c.time)
        ).scalars()
    )
    if len(times) >= limit:
        wait = max(1, int((times[len(times) - limit] + timedelta(seconds=window) - now).total_seconds()) + 1)
        minutes = max(1, window // 60)
        message = _nt(
            "at most %(num)d email to this user within %(minutes)d minutes (SSO_ADMIN_EMAIL_MAX_PER_USER); "
            "try again later",
            "at most %(num)d emails to this user within %(minutes)d minutes (SSO_ADMIN_EMAIL_MAX_PER_USER); "
            "try again later",
            limit,
            minutes=minutes,
        )
        raise SSOError(Kind.throttled, [Code.invalid_input], {"kind": message}, retry_after=wait)
    conn.execute(delete(mail_requests).where(mail_requests.c.key == key, mail_requests.c.time <= since))
    conn.execute(insert(mail_requests).values(key=key, time=now))


# --- the messages ------------------------------------------------------------------------------------------


def _message(ctx: Context, conn: Connection, user: Any, kind: str, now: datetime) -> str:
    """The kind's token and message (into the outbox); returns the Message-ID."""
    settings = ctx.settings
    common = {
        "product": settings["SSO_PRODUCT_NAME"],
        "username": user["username"],
        "locale": recipient_language(ctx, user),
    }
    if kind == PASSWORD_RESET:
        minutes = settings["SSO_PASSWORD_RESET_MINUTES"]
        expires = now + timedelta(minutes=minutes)
        token = tokens.issue(conn, tokens.RESET, user["user_id"], now, expires)
        template, path = "admin/password_reset", RESET_PATH
    elif kind == SIGNUP_CONFIRMATION:
        minutes = settings["SSO_SIGNUP_CONFIRM_HOURS"] * 60
        expires = now + timedelta(minutes=minutes)
        token = tokens.issue(conn, tokens.SIGNUP, user["user_id"], now, expires)
        template, path = "admin/signup_confirm", CONFIRM_PATH
    else:
        minutes = VERIFY_HOURS * 60
        expires = now + timedelta(minutes=minutes)
        conn.execute(  # as the person's own request does: only the newest link confirms
            update(email_tokens)
            .where(
                email_tokens.c.user_id == user["user_id"],
                email_tokens.c.purpose == VERIFY_PURPOSE,
                email_tokens.c.used_time.is_(None),
            )
            .values(used_time=now)
        )
        token = tokens.issue(conn, VERIFY_PURPOSE, user["user_id"], now, expires, new_email=user["email"])
        template, path = "admin/verify_email", VERIFY_PATH
    message = render(
        template,
        user["email"],
        link=settings["SSO_PUBLIC_URL"] + path + token,
        valid_for=valid_for(minutes),
        expires_at=expires,
        **common,
    )
    return enqueue(ctx, conn, message, user_id=user["user_id"])


def send_admin_email(ctx: Context, call: Call, user_id: Any, kind: Any) -> Sent:
    """Send `kind` (password_reset, signup_confirmation, verify_email) to `user_id`, as the caller: checked,
    throttled, queued and audited in one transaction."""
    kind = check_kind(kind)
    if user_id is None:
        raise SSOError.single(Kind.malformed, Code.invalid_input, "user_id", _t("is required"))
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    require(caller, PERMISSION_OF[kind])
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        user = load_user(conn, user_id, lock=True)
        if user is None:
            raise no_such_user()
        require_over(conn, caller, user)
        refused = _refused(user, kind)
        if refused is not None:
            raise refused
        _check_throttle(ctx, conn, user["user_id"], now)
        message_id = _message(ctx, conn, user, kind, now)
        record(
            conn,
            now=now,
            **call.audit(),
            action=AUDIT_ACTION[kind],
            actor_id=caller.user_id,
            target_id=user["user_id"],
            changes={"email_sent": change(None, user["email"])},
        )
    return Sent(user["user_id"], user["username"], user["email"], kind, message_id)
