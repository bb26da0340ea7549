"""Signing in with a passkey (SPEC §18): a whole sign-in (usernameless, user verification required) and the
passkey in place of the TOTP code at the two-factor step.

It answers as a password sign-in does: counted by the login throttle before the answer is checked (the
same "paused" refusal), E005001 for anything about identity (an unknown passkey, a bad signature, another
site's answer, a locked, rejected or unconfirmed user), and a sign count that went backwards is refused
and audited (a cloned authenticator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy import select

from ...db import reading, writing
from ..credentials.passkeys import (
    FACTOR,
    LOGIN,
    Ceremony,
    checked_use,
    consume_use,
    credential_id_of,
    credential_json,
    find_passkey,
    login_options,
    take_challenge,
)
from ..credentials.throttle import begin_attempt, succeeded, took_back
from ..kernel import events
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import check_app
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError
from ..kernel.ratelimit import enforce as enforce_rate_limit
from ..kernel.required_actions import of_row, stored_of
from ..kernel.tables import users
from ..kernel.texts import _t
from .login import LoginResult, open_session, refused
from .login_metadata import resolve as resolve_metadata


def passwordless_off() -> SSOError:
    return SSOError.single(
        Kind.forbidden, Code.invalid_operation, "credential", _t("signing in with a passkey alone is turned off here")
    )


def sign_in_options(ctx: Context, call: Call, *, second_factor: bool = False) -> Ceremony:
    """Begin a passkey sign-in (or, with `second_factor`, the passkey at the two-factor step)."""
    check_app(ctx, call.current_app)
    if not second_factor and not ctx.settings["SSO_PASSKEY_PASSWORDLESS"]:
        raise passwordless_off()
    return login_options(ctx, FACTOR if second_factor else LOGIN, ctx.clock())


def _may_sign_in(user: Mapping) -> bool:
    return (
        user["approval_status"] == "approved"
        and not user["is_locked"]
        and user["sign_up_status"] == "final"
        and bool(user["is_active"])
    )


def login_with_passkey(ctx: Context, call: Call, challenge_id, credential, *, claimed_metadata=None) -> LoginResult:
    """Open a session with a passkey alone: the browser's answer to the challenge of `sign_in_options`."""
    current_app = call.current_app
    check_app(ctx, current_app)
    if not ctx.settings["SSO_PASSKEY_PASSWORDLESS"]:
        raise passwordless_off()
    remote_addr, user_agent, audit_addr = resolve_metadata(
        ctx, current_app, call.remote_addr, call.user_agent, claimed_metadata
    )
    audited = replace(call, remote_addr=audit_addr, user_agent=user_agent)
    credential = credential_json(credential)
    passkey = find_passkey(ctx, credential_id_of(credential))
    now = ctx.clock()
    try:  # counted before the answer is checked, under the passkey's username (an unknown one: the address)
        attempt = begin_attempt(ctx, passkey["username"] if passkey else "", remote_addr, now, field_name="credential")
    except SSOError:
        events.emit(events.LOGIN, result="throttled")
        raise
    try:
        taken = take_challenge(ctx, challenge_id, LOGIN, now)
    except SSOError:  # a stale page, not a guess
        took_back(ctx, attempt)
        raise
    use = checked_use(ctx, audited, credential, passkey, taken, require_uv=True)
    with reading(ctx.engine) as conn:
        user = conn.execute(select(users).where(users.c.user_id == use.passkey["user_id"])).mappings().one()
    if not _may_sign_in(user):
        events.emit(events.LOGIN, result="failed")
        raise refused()
    enforce_rate_limit(ctx, user, current_app)
    # No password was typed, so none can be chosen here: a password that must change, or has expired, is
    # changed by signing in with it (a session of a user whose password expired is refused anyway).
    if user["password_must_change"] or (user["password_expiry"] is not None and user["password_expiry"] <= now):
        took_back(ctx, attempt)
        code = Code.password_must_change if user["password_must_change"] else Code.password_expired
        raise SSOError.single(Kind.forbidden, code)
    with writing(ctx.engine) as conn:
        changes = consume_use(conn, use, now)
        if changes is None:  # a racing sign-in used this very answer first
            events.emit(events.LOGIN, result="failed")
            raise refused()
        succeeded(conn, attempt, now)
        pending = of_row(user, stored_of(conn, user["user_id"]))
        ust, expiration = open_session(ctx, conn, user["user_id"], current_app, remote_addr, user_agent, now)
        if ctx.notify is not None:  # before the login's own record: compared with the earlier sign-ins
            audit_fields = audited.audit()
            ctx.notify.new_sign_in(conn, user, audit_fields["remote_addr"], audit_fields["user_agent"], current_app)
        record(
            conn,
            now=now,
            **audited.audit(),
            action="login",
            actor_id=user["user_id"],
            target_id=user["user_id"],
            changes=changes,
        )
    events.emit(events.LOGIN, result="ok")
    events.emit(events.AUTHENTICATED, user_id=user["user_id"])
    result = LoginResult(ust=ust, expiration_time=expiration, user_id=user["user_id"], required_actions=pending)
    if pending:  # SPEC §19, as a password sign-in answers
        result.status, result.sub_status = "warning", [Code.actions_pending]
    return result
