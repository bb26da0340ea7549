"""Password reset by email (SPEC §11, Zato's PasswordReset): request → emailed link (PRT) → reset key → new password.

The request always answers ok, whether or not the credential names an account, so accounts cannot be
probed; it is throttled per credential and per client address. The link goes to the outbox in the
request's transaction (issue 27): the answer never waits for SMTP, and SMTP being down changes nothing
in it (the message waits), for known and unknown credentials alike.
The PRT is single use and expires (`SSO_PASSWORD_RESET_MINUTES`); accessing it (PATCH) gives a reset key
valid for 30 minutes; the new password (DELETE) ends every session of the user. Every refusal is E010001.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ...db import reading, writing
from ..kernel.attributes import EMAIL_MAX, KEY_MAX, REMOTE_ADDR_MAX, USERNAME_MAX, fold, safe_text
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import check_app
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError
from ..kernel.password_rules import password_changes, password_columns, password_problem
from ..kernel.tables import email_tokens, mail_requests, sessions, users
from ..kernel.texts import _t
from . import notifications, tokens
from .mail import render, valid_for
from .outbox import enqueue
from .tokens import may_log_in

RESET_PATH = "/password/reset/"  # the console page a reset link opens
RESET_KEY_MINUTES = 30
MAX_ACCOUNTS_PER_EMAIL = 5

log = logging.getLogger("webapp.mail")


def refused() -> SSOError:
    """E010001: the token, the reset key or the account does not allow a reset (never saying which)."""
    return SSOError.single(
        Kind.forbidden,
        Code.password_reset_refused,
        "token",
        _t("this password-reset link is not valid (it may have expired or been used already)"),
    )


# --- throttling ----------------------------------------------------------------------------------------


def _throttle_keys(credential: str, remote_addr: Any) -> list[tuple[str, str]]:
    by_credential, by_address = "reset:c:", "reset:a:"
    return [
        (
            f"{by_credential}{safe_text(fold(credential), KEY_MAX - len(by_credential))}",
            "SSO_PASSWORD_RESET_MAX_REQUESTS",
        ),
        (f"{by_address}{safe_text(remote_addr, REMOTE_ADDR_MAX)}", "SSO_PASSWORD_RESET_MAX_PER_ADDRESS"),
    ]


def _throttled(ctx: Context, conn: Connection, keys: list[tuple[str, str]], now: datetime) -> bool:
    since = now - timedelta(seconds=ctx.settings["SSO_PASSWORD_RESET_WINDOW"])
    for key, setting in keys:
        limit = ctx.settings[setting]
        if limit <= 0:
            continue
        count = conn.execute(
            select(func.count())
            .select_from(mail_requests)
            .where(mail_requests.c.key == key, mail_requests.c.time > since)
        ).scalar_one()
        if count >= limit:
            return True
    return False


def _count_request(ctx: Context, conn: Connection, keys: list[tuple[str, str]], now: datetime) -> None:
    since = now - timedelta(seconds=ctx.settings["SSO_PASSWORD_RESET_WINDOW"])
    conn.execute(delete(mail_requests).where(mail_requests.c.time <= since))
    conn.execute(insert(mail_requests), [{"key": key, "time": now} for key, _ in keys])


# --- request (POST) ------------------------------------------------------------------------------------


def _accounts(ctx: Context, conn: Connection, credential: str) -> list[Any]:
    """The accounts a credential names, as SSO_PASSWORD_RESET_BY says."""
    by = ctx.settings["SSO_PASSWORD_RESET_BY"]
    folded = fold(credential)
    found: list[Any] = []
    if by in ("username", "username_or_email") and len(credential) <= USERNAME_MAX:
        found = list(conn.execute(select(users).where(users.c.username_search == folded)).mappings())
    if not found and by in ("email", "username_or_email") and len(credential) <= EMAIL_MAX:
        found = list(
            conn.execute(
                select(users)
                .where(users.c.email_search == folded)
                .order_by(users.c.user_id)
                .limit(MAX_ACCOUNTS_PER_EMAIL)
            ).mappings()
        )
    return found


def request_password_reset(ctx: Context, call: Call, credential) -> None:
    """Email a reset link to the account `credential` names (if any, and if it may log in); answers alike either way."""
    check_app(ctx, call.current_app)
    if not isinstance(credential, str):
        raise SSOError.single(Kind.invalid, Code.invalid_input, "credential", _t("must be a string"))
    now = ctx.clock()
    keys = _throttle_keys(credential, call.remote_addr)
    clean = credential.strip()
    with reading(ctx.engine) as conn:
        if _throttled(ctx, conn, keys, now):
            log.info("password reset requests for this credential or address are throttled (cid %s)", call)
            return
        # A credential no account can have (empty, control characters) is looked up nowhere.
        longest = max(USERNAME_MAX, EMAIL_MAX)  # a longer credential names no account either
        accounts = _accounts(ctx, conn, clean) if clean and safe_text(clean, longest) == clean else []
    recipients = [user for user in accounts if may_log_in(user) and user["email"]]
    if not recipients:
        with writing(ctx.engine) as conn:
            _count_request(ctx, conn, keys, now)
        return
    expires = now + timedelta(minutes=ctx.settings["SSO_PASSWORD_RESET_MINUTES"])
    for user in recipients:
        with writing(ctx.engine) as conn:
            token = tokens.issue(conn, tokens.RESET, user["user_id"], now, expires)
            _send_link(ctx, conn, user, token, expires)
            _count_request(ctx, conn, keys, now)
            record(
                conn,
                now=now,
                **call.audit(),
                action="reset_requested",
                actor_id=None,
                target_id=user["user_id"],
                changes={},
            )
        keys = []  # one request counts once, however many accounts share the address


def _send_link(ctx: Context, conn: Connection, user: Any, token: str, expires: datetime) -> None:
    """The reset link, into the outbox in the request's own transaction."""
    settings = ctx.settings
    message = render(
        "password_reset",
        user["email"],
        product=settings["SSO_PRODUCT_NAME"],
        username=user["username"],
        link=settings["SSO_PUBLIC_URL"] + RESET_PATH + token,
        valid_for=valid_for(settings["SSO_PASSWORD_RESET_MINUTES"]),
        expires_at=expires,
        locale=ctx.mailer.language(user) if ctx.mailer is not None else ctx.settings.get("SSO_DEFAULT_LOCALE", "en"),
    )
    enqueue(ctx, conn, message, user_id=user["user_id"])


# --- access (PATCH) and the new password (DELETE) ------------------------------------------------------


def _usable(conn: Connection, token: Any, *, lock: bool = False):
    """The PRT's row and its user while the PRT may still be used (its expiry is the caller's: a reset key
    outlives it), else E010001."""
    return tokens.open_link(conn, tokens.RESET, token, refused, lock=lock)


def check_link(ctx: Context, token: Any) -> str:
    """The username a reset link is for, while it can still set a password (reads only); else E010001."""
    with reading(ctx.engine) as conn:
        row, user = _usable(conn, token)
    if row["reset_key_hash"] is not None or row["expiration_time"] <= ctx.clock():
        raise refused()
    return user["username"]


def access_password_reset(ctx: Context, call: Call, token) -> str:
    """PATCH password/reset: trade a valid PRT (once) for a reset key valid for 30 minutes."""
    check_app(ctx, call.current_app)
    now = ctx.clock()
    reset_key, key_digest = tokens.new_token()
    with writing(ctx.engine) as conn:
        row, _ = _usable(conn, token)
        if row["reset_key_hash"] is not None or row["expiration_time"] <= now:
            raise refused()
        taken = conn.execute(
            update(email_tokens)
            .where(email_tokens.c.id == row["id"], email_tokens.c.reset_key_hash.is_(None))
            .values(reset_key_hash=key_digest, reset_key_expiration=now + timedelta(minutes=RESET_KEY_MINUTES))
        )
        if taken.rowcount != 1:
            raise refused()
    return reset_key


def complete_password_reset(ctx: Context, call: Call, token, reset_key, password) -> None:
    """DELETE password/reset: with the PRT and its reset key, set the new password (§5 rules)."""
    check_app(ctx, call.current_app)
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        row, _ = _usable(conn, token)
    key_digest = tokens.token_hash(reset_key)
    if (
        row["reset_key_hash"] is None
        or key_digest is None
        or row["reset_key_expiration"] <= now
        or not hmac.compare_digest(row["reset_key_hash"], key_digest)
    ):
        raise refused()
    _set_password(ctx, call, token, password, now, reset_key_hash=key_digest)


def reset_password_from_link(ctx: Context, call: Call, token, password) -> str:
    """The console's one step: a valid, not yet accessed PRT and the new password; returns the username."""
    check_app(ctx, call.current_app)
    now = ctx.clock()
    username = check_link(ctx, token)
    _set_password(ctx, call, token, password, now, reset_key_hash=None)
    return username


def _set_password(ctx: Context, call: Call, token, password, now: datetime, *, reset_key_hash: str | None) -> None:
    problem = password_problem(password, ctx.settings["SSO_PASSWORD_REJECT_LIST"])
    if problem:
        raise SSOError.single(Kind.invalid, problem[0], "password", problem[1])
    with writing(ctx.engine) as conn:
        row, user = _usable(conn, token, lock=True)
        # The PRT goes with this use (the key must still be the one checked), and so does every other open PRT.
        condition = [email_tokens.c.id == row["id"], email_tokens.c.used_time.is_(None)]
        condition.append(
            email_tokens.c.reset_key_hash.is_(None)
            if reset_key_hash is None
            else email_tokens.c.reset_key_hash == reset_key_hash
        )
        if conn.execute(update(email_tokens).where(*condition).values(used_time=now)).rowcount != 1:
            raise refused()
        conn.execute(
            update(email_tokens)
            .where(
                email_tokens.c.user_id == user["user_id"],
                email_tokens.c.purpose == tokens.RESET,
                email_tokens.c.used_time.is_(None),
            )
            .values(used_time=now)
        )
        columns = password_columns(ctx, password, now, must_change=False)
        conn.execute(
            update(users).where(users.c.user_id == user["user_id"]).values(**columns, version=users.c.version + 1)
        )
        conn.execute(delete(sessions).where(sessions.c.user_id == user["user_id"]))
        record(
            conn,
            now=now,
            **call.audit(),
            action="password_reset",
            actor_id=user["user_id"],
            target_id=user["user_id"],
            changes=password_changes(user, columns),
        )
        notifications.password_changed(ctx, conn, user, by_administrator=False)
