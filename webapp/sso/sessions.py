"""Sessions: who the caller is (SPEC §4 step 3), login with throttling, logout and renewal."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..db import reading, writing
from ..models import login_failures, sessions, users
from .attributes import fold, safe_text, text_problem
from .audit import change, record
from .context import Context
from .errors import Code, Kind, SSOError
from .passwords import hash_password, password_problem, verify_password

# Verifying against this when the username is unknown keeps both failures equally slow.
_DUMMY_HASH = hash_password("not a real password, only for timing")


@dataclass
class LoginResult:
    """A successful login: the UST, when it expires, and `warning` status when one is due."""

    ust: str
    expiration_time: datetime
    user_id: str
    status: str = "ok"
    sub_status: list[str] = field(default_factory=list)


@dataclass
class Caller:
    """The authenticated caller of a call: their user row and their session."""

    user: Any
    session_id: int
    current_app: str

    @property
    def user_id(self) -> str:
        return self.user["user_id"]

    @property
    def is_super_user(self) -> bool:
        return bool(self.user["is_super_user"])


def check_app(ctx: Context, current_app: Any) -> None:
    """E004001 unless `current_app` is one of the configured applications."""
    if not isinstance(current_app, str) or current_app not in ctx.apps:
        raise SSOError.single(Kind.forbidden, Code.app_not_allowed, "current_app", "is not a configured application")


def authenticate(ctx: Context, conn: Connection, current_ust: Any, current_app: Any) -> Caller:
    """The caller behind a UST, or the step-3 error that refuses them."""
    digest = ctx.codec.session_hash_of(current_ust)
    if digest is None:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    query = (select(sessions.c.id.label("session_pk"), sessions.c.expiration_time, users)
             .join(users, users.c.user_id == sessions.c.user_id)
             .where(sessions.c.session_hash == digest))
    row = conn.execute(query).mappings().first()
    now = ctx.clock()
    if row is None or row["expiration_time"] <= now or row["approval_status"] != "approved" or not row["is_active"]:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    check_app(ctx, current_app)
    refuse_if_unusable(row, now)
    return Caller(user=row, session_id=row["session_pk"], current_app=current_app)


def refuse_if_unusable(user: Any, now: datetime) -> None:
    """E005002 / E005003 / E005001 for a locked, not-signed-up or password-expired user."""
    if user["is_locked"]:
        raise SSOError.single(Kind.forbidden, Code.user_locked)
    if user["sign_up_status"] != "final":
        raise SSOError.single(Kind.forbidden, Code.sign_up_not_final)
    if user["password_expiry"] is not None and user["password_expiry"] <= now:
        raise SSOError.single(Kind.forbidden, Code.auth_invalid)


def password_columns(ctx: Context, password: str, now: datetime, expiry_days: int | None = None,
                     must_change: bool = False) -> dict[str, Any]:
    """The columns written when a password is set."""
    days = ctx.settings["SSO_PASSWORD_EXPIRY_DAYS"] if expiry_days is None else expiry_days
    return {
        "password_hash": hash_password(password),
        "password_is_set": True,
        "password_last_set": now,
        "password_expiry": now + timedelta(days=days),
        "password_must_change": must_change,
    }


def check_new_password(ctx: Context, password: Any, field_name: str) -> None:
    """Raise the SPEC §5 code when a new password breaks a rule."""
    problem = password_problem(password, ctx.settings["SSO_PASSWORD_REJECT_LIST"])
    if problem:
        code, message = problem
        raise SSOError.single(Kind.invalid, code, field_name, message)


class Sessions:
    """Login, logout and renewal."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def _throttle_keys(self, username: str, remote_addr: Any) -> list[str]:
        return [f"u:{fold(username)}"[:512], f"a:{safe_text(remote_addr, 256)}"]

    def _throttled(self, conn: Connection, keys: list[str], now: datetime) -> bool:
        limit = self.ctx.settings["SSO_LOGIN_MAX_FAILURES"]
        if limit <= 0:
            return False
        since = now - timedelta(seconds=self.ctx.settings["SSO_LOGIN_FAILURE_WINDOW"])
        for key in keys:
            count = conn.execute(select(func.count()).select_from(login_failures).where(
                login_failures.c.key == key, login_failures.c.time > since)).scalar_one()
            if count >= limit:
                return True
        return False

    def _fail(self, keys: list[str], now: datetime) -> SSOError:
        if self.ctx.settings["SSO_LOGIN_MAX_FAILURES"] > 0:
            since = now - timedelta(seconds=self.ctx.settings["SSO_LOGIN_FAILURE_WINDOW"])
            with writing(self.ctx.engine) as conn:
                conn.execute(delete(login_failures).where(login_failures.c.time <= since))
                conn.execute(insert(login_failures), [{"key": key, "time": now} for key in keys])
        return SSOError.single(Kind.forbidden, Code.auth_invalid)

    def login(self, cid, username, password, current_app, remote_addr, user_agent=None, new_password=None,
              *, channel: str = "python") -> LoginResult:
        """Open a session: returns the UST (SPEC §5); every refusal of identity is E005001."""
        check_app(self.ctx, current_app)
        missing = {name: "is required" for name, value in (("username", username), ("password", password))
                   if not isinstance(value, str) or not value}
        if missing:
            raise SSOError(Kind.malformed, [Code.invalid_input], missing)
        if text_problem(username):  # no stored username has one, and the database could not compare it
            raise SSOError.single(Kind.forbidden, Code.auth_invalid)
        now = self.ctx.clock()
        keys = self._throttle_keys(username, remote_addr)
        with reading(self.ctx.engine) as conn:
            if self._throttled(conn, keys, now):
                raise SSOError.single(Kind.forbidden, Code.auth_invalid)
            user = conn.execute(select(users).where(users.c.username_search == fold(username))).mappings().first()
        stored_hash = user["password_hash"] if user is not None else None
        # A missing user or a user without a password costs one scrypt too: the timing tells nothing.
        if not verify_password(password, stored_hash or _DUMMY_HASH) or stored_hash is None:
            raise self._fail(keys, now)
        if (user["approval_status"] != "approved" or user["is_locked"] or user["sign_up_status"] != "final"
                or not user["is_active"]):
            raise SSOError.single(Kind.forbidden, Code.auth_invalid)
        if new_password is None:
            if user["password_must_change"]:
                raise SSOError.single(Kind.forbidden, Code.password_must_change)
            if user["password_expiry"] is not None and user["password_expiry"] <= now:
                raise SSOError.single(Kind.forbidden, Code.password_expired)
        else:
            check_new_password(self.ctx, new_password, "new_password")
        ust, digest = self.ctx.codec.new()
        expiration = now + timedelta(seconds=self.ctx.settings["SSO_SESSION_TTL"])
        expiry = user["password_expiry"]
        with writing(self.ctx.engine) as conn:
            changes: dict[str, Any] = {}
            if new_password is not None:
                columns = password_columns(self.ctx, new_password, now)
                expiry = columns["password_expiry"]
                conn.execute(delete(sessions).where(sessions.c.user_id == user["user_id"]))
                conn.execute(update(users).where(users.c.user_id == user["user_id"])
                             .values(**columns, version=users.c.version + 1))
                changes = {name: change(user[name], columns[name])
                           for name in ("password_expiry", "password_must_change") if user[name] != columns[name]}
                changes["password"] = {"old": "(not shown)", "new": "(changed)"}
            # Expired sessions of this user are of no further use: they go as a new one starts.
            conn.execute(delete(sessions).where(sessions.c.user_id == user["user_id"],
                                                sessions.c.expiration_time <= now))
            conn.execute(insert(sessions).values(
                session_hash=digest, user_id=user["user_id"], current_app=current_app,
                remote_addr=safe_text(remote_addr, 256), user_agent=safe_text(user_agent, 1024),
                creation_time=now, expiration_time=expiration))
            record(conn, now=now, cid=cid, action="login", actor_id=user["user_id"], target_id=user["user_id"],
                   channel=channel, current_app=current_app, remote_addr=remote_addr, user_agent=user_agent,
                   changes=changes)
        result = LoginResult(ust=ust, expiration_time=expiration, user_id=user["user_id"])
        warn = timedelta(days=self.ctx.settings["SSO_PASSWORD_EXPIRY_WARN_DAYS"])
        if expiry is not None and expiry - now <= warn:
            result.status, result.sub_status = "warning", [Code.password_expiring]
        return result

    def logout(self, cid, current_ust, current_app, remote_addr) -> None:
        """End the session behind `current_ust`; always succeeds, so USTs cannot be probed."""
        digest = self.ctx.codec.session_hash_of(current_ust)
        if digest is not None:
            with writing(self.ctx.engine) as conn:
                conn.execute(delete(sessions).where(sessions.c.session_hash == digest))

    def renew(self, cid, current_ust, current_app, remote_addr) -> datetime:
        """Extend a live session by the session lifetime; returns the new expiration time."""
        with reading(self.ctx.engine) as conn:
            caller = authenticate(self.ctx, conn, current_ust, current_app)
        expiration = self.ctx.clock() + timedelta(seconds=self.ctx.settings["SSO_SESSION_TTL"])
        with writing(self.ctx.engine) as conn:
            conn.execute(update(sessions).where(sessions.c.id == caller.session_id)
                         .values(expiration_time=expiration))
        return expiration
