"""Who the caller is: the UST, the application and the caller's state (SPEC §4 step 3).

One authentication per request (issue 14): inside `request_scope()` (every Flask request, see
`webapp.init_request_scope`), the caller found for a (UST, application) is kept and handed to every later
service call of the same request: the console's role check, the update and the page's own reads
share one session lookup. Any committed write forgets them, so a request that logs out, changes a
password or edits its own account authenticates afresh before its next call. Refusals are never kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, event, func, insert, select, update
from sqlalchemy.exc import OperationalError

from ...db import WRITE_OPTION, reading, writing
from . import events
from .call import Call
from .context import Context
from .errors import Code, Kind, SSOError
from .permissions import ALL_PERMISSIONS, require, split
from .ratelimit import Rule, enforce_leased
from .ratelimit import enforce as enforce_rate_limit
from .ratelimit import parse as parse_rate_limit
from .required_actions import STORED_COLUMN, gate, of_row, stored_subquery
from .tables import ended_sessions, roles, scim_clients, sessions, user_roles, users
from .texts import _t
from .tokens import session_hash

# The last-use time is written only when it has moved by more than this: at most one write a minute
# per session, however many calls it makes.
LAST_USE_GRANULARITY = timedelta(minutes=1)


@dataclass
class Caller:
    """The authenticated caller of a call: their user row, their session, and what their roles allow
    (SPEC §17; loaded with the session in the same query)."""

    user: Any
    session_id: int | None  # the session's row id (None for the command line)
    current_app: str | None
    public_session_id: str | None = None
    role_permissions: frozenset[str] = frozenset()
    role_names: frozenset[str] = frozenset()

    @property
    def user_id(self) -> str | None:
        return self.user["user_id"]

    @property
    def is_super_user(self) -> bool:
        return bool(self.user["is_super_user"])

    @property
    def permissions(self) -> frozenset[str]:
        """Every permission the caller holds: a super-user all of them, anyone else their roles'."""
        return ALL_PERMISSIONS if self.is_super_user else self.role_permissions

    def holds(self, permission: str) -> bool:
        """Whether the caller holds `permission`."""
        return self.is_super_user or permission in self.role_permissions

    def holds_any(self, role_names: Iterable[str]) -> bool:
        """Whether the caller holds any of the roles named (a super-user holds them all): for per-field
        view/edit sets naming roles (SPEC §16)."""
        return self.is_super_user or not self.role_names.isdisjoint(role_names)

    @property
    def is_administrator(self) -> bool:
        """A super-user, or a user holding at least one permission."""
        return self.is_super_user or bool(self.role_permissions)


class UserCaller(Caller):
    """A caller who is a user with an account (signed in with a UST, or proven by an emailed link), so
    never the command line's `operator()`: their `user_id` is always set."""

    @property
    def user_id(self) -> str:
        return self.user["user_id"]


def operator() -> Caller:
    """The command line's caller: acts as a super-user, is nobody's account and holds no session."""
    return Caller(user={"user_id": None, "is_super_user": True}, session_id=None, current_app=None)


def check_app(ctx: Context, current_app: Any) -> None:
    """E004001 unless `current_app` is one of the configured applications."""
    if not isinstance(current_app, str) or current_app not in ctx.apps:
        raise SSOError.single(
            Kind.forbidden, Code.app_not_allowed, "current_app", _t("is not a configured application")
        )


_known: ContextVar[dict | None] = ContextVar("sso_request_callers", default=None)


def pending_actions(caller: Caller) -> list[str]:
    """The required actions the caller has not done yet (SPEC §19), in the order they are asked."""
    if caller.session_id is None:  # the command line and SCIM clients are nobody's account
        return []
    return of_row(caller.user, caller.user.get(STORED_COLUMN))


_held: ContextVar[bool] = ContextVar("sso_caller_held", default=False)


@contextmanager
def request_scope() -> Iterator[None]:
    """Within this block, one authentication per (UST, application) until a write commits."""
    token = _known.set({})
    try:
        yield
    finally:
        _known.reset(token)


@contextmanager
def one_authentication() -> Iterator[None]:
    """Within this block, one authentication per (UST, application) even across the block's own writes.

    For a run of calls none of which can change the caller's own access (a bulk action: locking,
    rejecting or deleting oneself is refused, approving or unlocking oneself changes nothing, signing
    oneself out keeps the current session), so the caller is looked up, rate-counted and touched once
    instead of once per user. On leaving, the enclosing request scope forgets what it knew (the
    block's writes have committed)."""
    outer = _known.get()
    known_token = _known.set({})
    held_token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(held_token)
        _known.reset(known_token)
        if outer:
            outer.clear()


def _forget_callers(conn: Connection) -> None:
    known = _known.get()
    # A read transaction changes nothing; inside `one_authentication` the writes cannot change the caller.
    if known and not _held.get() and conn.get_execution_options().get(WRITE_OPTION):
        known.clear()


def forget_callers_on_commit(engine: Engine) -> None:
    """Every commit on `engine` (a write) ends what the current scope knew of its callers."""
    event.listen(engine, "commit", _forget_callers)


def authenticate(
    ctx: Context, conn: Connection, call: Call, *, touch: bool = True, completes: Iterable[str] = ()
) -> UserCaller:
    """The caller behind the call's UST, or the step-3 error that refuses them (once per request scope).
    With `touch`, the session's last-use time is kept (never its expiry: only renew extends a session).
    A caller with required actions pending is refused E012001 unless the use case `completes` one of them
    (SPEC §19; `required_actions.ANY` for a call any of them allows, such as renewing the session) or the
    call says it works on one (`call.completes`: the console's page of that action)."""
    caller = _authenticated(ctx, conn, call, touch)
    gate(pending_actions(caller), {*completes, *call.completes})
    return caller


def _authenticated(ctx: Context, conn: Connection, call: Call, touch: bool) -> UserCaller:
    if call.bearer is not None:
        return authenticate_scim_client(ctx, conn, call.bearer)
    current_app = call.current_app
    digest = ctx.codec.session_hash_of(call.ust)
    if digest is None:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    known = _known.get()
    key = (id(ctx), digest, current_app if isinstance(current_app, str) else None)
    if known is not None and key[2] is not None and key in known:
        return known[key]
    caller = _authenticate(ctx, conn, digest, current_app, touch)
    if known is not None and key[2] is not None:
        known[key] = caller
    return caller


# --- SCIM clients (SPEC §21) ---

SCIM_ACTOR = "scim:"  # a SCIM client's changes name it so as their actor (it is nobody's account)
SCIM_TOKEN_MAX = 256
SCIM_RATE_LIMIT_DEFAULT = "6000/m"


def scim_actor(name: str) -> str:
    return f"{SCIM_ACTOR}{name}"[:64]


def scim_client_name(actor_id: str | None) -> str | None:
    """The SCIM client an audit record's actor (or a `locked_by`) names, or None for a user."""
    if actor_id and actor_id.startswith(SCIM_ACTOR):
        return actor_id[len(SCIM_ACTOR) :]
    return None


# Built once (statement cache): the token's digest is a parameter.
_SCIM_CLIENT = (
    select(scim_clients.c.name, scim_clients.c.role, scim_clients.c.is_active, roles.c.permissions)
    .select_from(scim_clients.outerjoin(roles, roles.c.name == scim_clients.c.role))
    .where(scim_clients.c.token_hash == bindparam("b_digest"))
)


def authenticate_scim_client(ctx: Context, conn: Connection, token: Any) -> UserCaller:
    """The SCIM client behind a bearer token (E007001 for an unknown or revoked one), throttled per client
    (`SSO_SCIM_RATE_LIMIT`, a rate like `6000/m`). The client acts with its role's permissions (SPEC §17); its changes
    name `scim:NAME` as their actor."""
    if not isinstance(token, str) or not token or len(token) > SCIM_TOKEN_MAX:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    digest = session_hash(token)
    known = _known.get()
    key = (id(ctx), "scim", digest)
    if known is not None and key in known:
        return known[key]
    row = conn.execute(_SCIM_CLIENT, {"b_digest": digest}).mappings().first()
    if row is None or not row["is_active"]:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    rule = scim_rule(ctx.settings)
    if rule is not None:
        enforce_leased(ctx, f"scim|{row['name']}|{rule.limit}/{rule.unit}", rule)
    caller = UserCaller(  # a role deleted since gives the client no permission at all
        user={"user_id": scim_actor(row["name"]), "is_super_user": False},
        session_id=None,
        current_app=None,
        role_permissions=split(row["permissions"]) & ALL_PERMISSIONS,
        role_names=frozenset({row["role"]}),
    )
    if known is not None:
        known[key] = caller
    return caller


def scim_rule(settings: Mapping[str, Any]) -> Rule | None:
    """Each SCIM client's request rate (`SSO_SCIM_RATE_LIMIT`, e.g. `6000/m`; empty: none); ValueError if malformed."""
    definition = str(settings.get("SSO_SCIM_RATE_LIMIT", SCIM_RATE_LIMIT_DEFAULT) or "")
    rules = parse_rate_limit(f"*={definition}") if definition.strip() else []
    return rules[0] if rules else None


def _of_roles(column: Any) -> Any:
    """A correlated subquery: `column` of the user's roles, joined by spaces (NULL when they hold none)."""
    return (
        select(func.aggregate_strings(column, " "))
        .select_from(user_roles.join(roles, roles.c.name == user_roles.c.role))
        .where(user_roles.c.user_id == users.c.user_id)
        .scalar_subquery()
    )


def holder(ctx: Context, call: Call, permission: str) -> UserCaller:
    """The caller, in a read of its own, refused unless they hold `permission` (a call with no other read)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    require(caller, permission)
    return caller


# Built once: SQLAlchemy then finds the compiled form in its cache without rebuilding the statement
# (building and cache-keying it per call was a quarter of a JSON update's time). The caller's roles and
# their permissions come in the same query (two correlated subqueries), not in one more per call.
_SESSION_AND_USER = (
    select(
        sessions.c.id.label("session_pk"),
        sessions.c.session_id.label("public_session_id"),
        sessions.c.expiration_time,
        sessions.c.last_use_time,
        _of_roles(roles.c.permissions).label("role_permissions"),
        _of_roles(roles.c.name).label("role_names"),
        stored_subquery(users.c.user_id).label(STORED_COLUMN),
        users,
    )
    .join(users, users.c.user_id == sessions.c.user_id)
    .where(sessions.c.session_hash == bindparam("digest"))
)


def session_row(ctx: Context, conn: Connection, ust: Any):
    """The live-or-expired session row behind a UST joined to its user, or None."""
    digest = ctx.codec.session_hash_of(ust)
    if digest is None:
        return None
    return conn.execute(_SESSION_AND_USER, {"digest": digest}).mappings().first()


def _user_of_lock_ended_session(conn: Connection, digest: str, now: datetime) -> Any:
    """The user (is_locked, approval_status, is_active) of the unexpired session a lock ended, or None."""
    query = (
        select(users.c.is_locked, users.c.approval_status, users.c.is_active)
        .join(users, users.c.user_id == ended_sessions.c.user_id)
        .where(ended_sessions.c.session_hash == digest, ended_sessions.c.expiration_time > now)
    )
    return conn.execute(query).mappings().first()


def _approved_and_active(user: Any) -> bool:
    """What a session's user must be before anything else is said of the session (else "no such session")."""
    return user["approval_status"] == "approved" and bool(user["is_active"])


def _authenticate(ctx: Context, conn: Connection, digest: str, current_app: Any, touch: bool) -> UserCaller:
    row = conn.execute(_SESSION_AND_USER, {"digest": digest}).mappings().first()
    now = ctx.clock()
    if row is None:
        # a session a lock ended answers "locked" while its user is still locked, and only where a live
        # session of that user would get that far
        ended = _user_of_lock_ended_session(conn, digest, now)
        if ended is not None and ended["is_locked"] and _approved_and_active(ended):
            check_app(ctx, current_app)
            raise SSOError.single(Kind.forbidden, Code.user_locked)
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    if row["expiration_time"] <= now or not _approved_and_active(row):
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    check_app(ctx, current_app)
    refuse_if_unusable(row, now)
    if touch and now - row["last_use_time"] > LAST_USE_GRANULARITY:
        _touch(ctx, conn, row["session_pk"], now)
    enforce_rate_limit(ctx, row, current_app)
    events.emit(events.AUTHENTICATED, user_id=row["user_id"])
    return UserCaller(
        user=row,
        session_id=row["session_pk"],
        current_app=current_app,
        public_session_id=row["public_session_id"],
        role_permissions=split(row["role_permissions"]) & ALL_PERMISSIONS,
        role_names=split(row["role_names"]),
    )


def _touch(ctx: Context, conn: Connection, session_pk: int, now: datetime) -> None:
    """Record the session's use. In a write transaction it joins it; from a read it takes its own short
    one. Best effort: a busy database never fails the call for a bookkeeping write."""
    statement = (
        update(sessions)
        .where(sessions.c.id == session_pk, sessions.c.last_use_time < now - LAST_USE_GRANULARITY)
        .values(last_use_time=now)
    )
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.execute(statement)
        return
    try:
        with writing(ctx.engine) as write:
            write.execute(statement)
    except OperationalError:
        pass


def refuse_if_unusable(user: Any, now: datetime) -> None:
    """E005002 / E005003 / E005001 for a locked, not-signed-up or password-expired user."""
    if user["is_locked"]:
        raise SSOError.single(Kind.forbidden, Code.user_locked)
    if user["sign_up_status"] != "final":
        raise SSOError.single(Kind.forbidden, Code.sign_up_not_final)
    if user["password_expiry"] is not None and user["password_expiry"] <= now:
        raise SSOError.single(Kind.forbidden, Code.auth_invalid)


# --- the sessions a lock ended (read above by `_user_of_lock_ended_session`) ---


def end_for_lock(conn: Connection, user_id: str, now: datetime) -> int:
    """Inside a lock's transaction: end the user's sessions, remembering them so that their USTs answer
    E005002 while the lock lasts. Returns how many ended."""
    conn.execute(
        delete(ended_sessions).where(ended_sessions.c.user_id == user_id, ended_sessions.c.expiration_time <= now)
    )
    live = select(sessions.c.session_hash, sessions.c.user_id, sessions.c.expiration_time).where(
        sessions.c.user_id == user_id, sessions.c.expiration_time > now
    )
    conn.execute(insert(ended_sessions).from_select(["session_hash", "user_id", "expiration_time"], live))
    return conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount


def forget_lock(conn: Connection, user_id: str) -> None:
    """Inside an unlock's transaction: the sessions a lock ended stay ended, now as unknown USTs (E007001)."""
    conn.execute(delete(ended_sessions).where(ended_sessions.c.user_id == user_id))
