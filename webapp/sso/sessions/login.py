"""Login (SPEC §5): the password, the account's state, a forced or expired password, the new session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ...db import reading, writing
from ..credentials.passkeys import PasskeyUse, consume_use, passkey_factor
from ..credentials.throttle import begin_attempt, succeeded, took_back
from ..credentials.two_factor import SecondFactor, check_second_factor, consume_second_factor
from ..kernel import events
from ..kernel.attributes import REMOTE_ADDR_MAX, USER_AGENT_MAX, fold, safe_text, text_problem
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import check_app
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError
from ..kernel.hashing import dummy_hash, rehash_changes, verify_password
from ..kernel.password_rules import check_new_password, password_changes, password_columns
from ..kernel.ratelimit import enforce as enforce_rate_limit
from ..kernel.required_actions import of_row, stored_of
from ..kernel.rows import new_session_id
from ..kernel.tables import sessions, users
from ..kernel.texts import _t
from .login_metadata import resolve as resolve_metadata


@dataclass
class LoginResult:
    """A successful login: the UST, when it expires, and `warning` status when one is due."""

    ust: str
    expiration_time: datetime
    user_id: str
    status: str = "ok"
    sub_status: list[str] = field(default_factory=list)
    recovery_codes_left: int | None = None  # set when a recovery code stood in for the TOTP code
    required_actions: list[str] = field(default_factory=list)  # SPEC §19: to do before anything else


def open_session(
    ctx: Context, conn: Connection, user_id: str, current_app: str, remote_addr: Any, user_agent: Any, now: datetime
) -> tuple[str, datetime]:
    """Insert a new session of `user_id` inside the login's write transaction; returns (UST, expiration)."""
    ust, digest = ctx.codec.new()
    expiration = now + timedelta(seconds=ctx.settings["SSO_SESSION_TTL"])
    # Expired sessions of this user are of no further use: they go as a new one starts.
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id, sessions.c.expiration_time <= now))
    conn.execute(
        insert(sessions).values(
            session_hash=digest,
            session_id=new_session_id(),
            last_use_time=now,
            user_id=user_id,
            current_app=current_app,
            remote_addr=safe_text(remote_addr, REMOTE_ADDR_MAX),
            user_agent=safe_text(user_agent, USER_AGENT_MAX),
            creation_time=now,
            expiration_time=expiration,
        )
    )
    return ust, expiration


def refused() -> SSOError:
    """E005001: every refusal of identity at sign-in reads the same."""
    return SSOError.single(Kind.forbidden, Code.auth_invalid)


class Replayed(Exception):
    """A racing login used the same second factor first."""


def login(
    ctx: Context,
    call: Call,
    username,
    password,
    new_password=None,
    totp_code=None,
    *,
    claimed_metadata=None,
    passkey=None,
) -> LoginResult:
    """Open a session: returns the UST (SPEC §5); every refusal of identity is E005001.

    A user with two-factor sign-in on also needs `totp_code` (SPEC §10): none → E005008; a wrong one, or
    one already used, → E005001, counted as a failed login. A recovery code may stand in for it, and so may
    a passkey of the user: `passkey` = {challenge_id, credential} (SPEC §18).
    `claimed_metadata`: `remote_addr`/`user_agent` a trusted app says its end user has (SPEC §14)."""
    check_app(ctx, call.current_app)
    remote_addr, user_agent, audit_addr = resolve_metadata(
        ctx, call.current_app, call.remote_addr, call.user_agent, claimed_metadata
    )
    missing = {
        name: "is required"
        for name, value in (("username", username), ("password", password))
        if not isinstance(value, str) or not value
    }
    if missing:  # an empty or null credential is a wrong one, as in Zato (SPEC §14)
        raise SSOError(Kind.forbidden, [Code.auth_invalid], missing)
    if passkey is not None and not isinstance(passkey, Mapping):
        raise SSOError.single(
            Kind.malformed, Code.invalid_input, "passkey", _t("must be an object with challenge_id and credential")
        )
    if text_problem(username):  # no stored username has one, and the database could not compare it
        raise refused()
    now = ctx.clock()
    try:
        attempt = begin_attempt(ctx, username, remote_addr, now)  # counted before the password is checked
    except SSOError:
        events.emit(events.LOGIN, result="throttled")
        raise
    with reading(ctx.engine) as conn:
        user = conn.execute(select(users).where(users.c.username_search == fold(username))).mappings().first()
    stored_hash = user["password_hash"] if user is not None else None
    # A missing user or a user without a password costs one scrypt too: the timing tells nothing.
    if not verify_password(password, stored_hash or dummy_hash(ctx.settings["SSO_SCRYPT_N"])) or stored_hash is None:
        events.emit(events.LOGIN, result="failed")
        raise refused()
    assert user is not None, "a stored hash came from the user's row"
    if (
        user["approval_status"] != "approved"
        or user["is_locked"]
        or user["sign_up_status"] != "final"
        or not user["is_active"]
    ):
        events.emit(events.LOGIN, result="failed")
        raise refused()
    enforce_rate_limit(ctx, user, call.current_app)
    try:
        if new_password is None:
            if user["password_must_change"]:
                raise SSOError.single(Kind.forbidden, Code.password_must_change)
            if user["password_expiry"] is not None and user["password_expiry"] <= now:
                raise SSOError.single(Kind.forbidden, Code.password_expired)
        else:
            check_new_password(ctx, new_password, "new_password")
    except SSOError:
        took_back(ctx, attempt)  # the password was right: not a guess
        raise
    # The second factor is asked for last, right before anything is written, so a code is typed only
    # once the login can succeed with it (a forced new password comes first) and is used up with it.
    factor: SecondFactor | PasskeyUse | None = None
    if user["is_totp_enabled"] and passkey is not None:  # a passkey in place of the code (SPEC §18)
        try:
            factor = passkey_factor(
                ctx, replace(call, remote_addr=audit_addr, user_agent=user_agent), user, passkey, now
            )
        except SSOError as error:
            if error.sub_status != [Code.auth_invalid]:  # a stale challenge or a malformed answer: not a guess
                took_back(ctx, attempt)
            raise
    elif user["is_totp_enabled"]:
        try:
            factor = check_second_factor(ctx, user, totp_code, now)
        except SSOError:  # no code yet (E005008): the first half of a two-step login, not a guess
            took_back(ctx, attempt)
            raise
        if factor is None:  # a wrong code counts like a wrong password (the attempt's marks stay)
            events.emit(events.LOGIN, result="failed")
            raise refused()
    rehash = rehash_changes(ctx, password, stored_hash) if new_password is None else None
    expiry = user["password_expiry"]
    left = None
    try:
        with writing(ctx.engine) as conn:
            changes: dict[str, Any] = {}
            if factor is not None:
                if isinstance(factor, PasskeyUse):
                    used = consume_use(conn, factor, now)
                else:
                    used = consume_second_factor(conn, user["user_id"], factor)
                if used is None:
                    raise Replayed()  # rolls the transaction back: nothing of this login is written
                changes.update(used)
                left = used["recovery_codes_left"]["new"] if "recovery_codes_left" in used else None
            if new_password is not None:
                columns = password_columns(ctx, new_password, now)
                expiry = columns["password_expiry"]
                conn.execute(delete(sessions).where(sessions.c.user_id == user["user_id"]))
                conn.execute(
                    update(users)
                    .where(users.c.user_id == user["user_id"])
                    .values(**columns, version=users.c.version + 1)
                )
                changes.update(password_changes(user, columns))
            if rehash is not None:  # a hash made at a lower cost than configured is made again, transparently
                rehashed, rehash_audit = rehash
                conn.execute(
                    update(users)
                    .where(users.c.user_id == user["user_id"], users.c.password_hash == stored_hash)
                    .values(**rehashed)
                )
                changes.update(rehash_audit)
            succeeded(conn, attempt, now)
            must_change = user["password_must_change"] and new_password is None
            pending = of_row({"password_must_change": must_change}, stored_of(conn, user["user_id"]))
            ust, expiration = open_session(ctx, conn, user["user_id"], call.current_app, remote_addr, user_agent, now)
            # (after the session, before the login's own record: the sign-in is compared with the earlier ones)
            if ctx.notify is not None:
                ctx.notify.new_sign_in(conn, user, audit_addr, user_agent, call.current_app)
                if new_password is not None:
                    ctx.notify.password_changed(conn, user, by_administrator=False)
            record(
                conn,
                now=now,
                **replace(call, remote_addr=audit_addr, user_agent=user_agent).audit(),
                action="login",
                actor_id=user["user_id"],
                target_id=user["user_id"],
                changes=changes,
            )
    except Replayed:  # counted: the attempt's marks stay
        events.emit(events.LOGIN, result="failed")
        raise refused() from None
    result = LoginResult(
        ust=ust, expiration_time=expiration, user_id=user["user_id"], recovery_codes_left=left, required_actions=pending
    )
    events.emit(events.LOGIN, result="ok")
    events.emit(events.AUTHENTICATED, user_id=user["user_id"])
    warn = timedelta(days=ctx.settings["SSO_PASSWORD_EXPIRY_WARN_DAYS"])
    if expiry is not None and expiry - now <= warn:
        result.status, result.sub_status = "warning", [Code.password_expiring]
    if pending:  # SPEC §19: signed in, but every other call waits until these are done
        result.status, result.sub_status = "warning", [*result.sub_status, Code.actions_pending]
    return result
