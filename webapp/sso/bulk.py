"""Bulk actions (issue 11): approve, reject, lock, unlock, sign out or delete several users in one call; and
(issue 27) send each of them an administrator's email (a password-reset link, the sign-up confirmation again, a
verify-email link).

Each user goes through the very call that acts on one (`accounts/lifecycle.py`,
`sessions/session_calls.end_sessions`), in its own transaction, with its guard rails and its own audit
record; one user's refusal never stops the others. The caller is authenticated once for the whole run
(`kernel/caller.one_authentication`): a non-super-user gets one refusal, not one per user, and the run
costs one session lookup and one rate-limit hit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, func, select, true, update

from ..db import reading, writing
from .accounts import lifecycle
from .accounts import update as updating
from .accounts.search import matching
from .email import admin_emails
from .kernel.attributes import USER_ID_MAX, text_problem
from .kernel.audit import change, record
from .kernel.call import Call
from .kernel.caller import authenticate, one_authentication
from .kernel.context import Context
from .kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user
from .kernel.permissions import (
    NOT_OVER,
    USERS_APPROVE,
    USERS_CREDENTIALS,
    USERS_DELETE,
    USERS_LOCK,
    USERS_SESSIONS,
    USERS_VIEW,
    require,
)
from .kernel.presentation import UserData
from .kernel.required_actions import ACTIONS as REQUIRED_ACTIONS
from .kernel.required_actions import CHANGE_PASSWORD, add_for_all, clear_for_all, in_batches, pending_of
from .kernel.required_actions import KEY as ACTIONS_KEY
from .kernel.tables import sessions, user_roles, users
from .sessions.session_calls import end_sessions

BULK_MAX = 100  # users per call: the console's largest page
Outcome = Literal["done", "unchanged", "refused", "not_found"]


@dataclass(frozen=True)
class BulkAction:
    """One action a bulk call may run, and the single call that does it for one user."""

    name: str
    call: Callable[..., Any]
    permission: str


ACTIONS = {
    a.name: a
    for a in (
        BulkAction("approve", lifecycle.approve_user, USERS_APPROVE),
        BulkAction("reject", lifecycle.reject_user, USERS_APPROVE),
        BulkAction("lock", lifecycle.lock_user, USERS_LOCK),
        BulkAction("unlock", lifecycle.unlock_user, USERS_LOCK),
        BulkAction("sign_out", end_sessions, USERS_SESSIONS),
        BulkAction("delete", lifecycle.delete_user, USERS_DELETE),
    )
}


def _sender(kind: str) -> Callable[..., Any]:
    def send(ctx: Context, call: Call, user_id: str) -> admin_emails.Sent:
        return admin_emails.send_admin_email(ctx, call, user_id, kind)

    return send


# An administrator's emails (issue 27), each the single call `send_admin_email` of its kind.
EMAIL_ACTIONS = {
    a.name: a
    for a in (
        BulkAction("send_password_reset", _sender(admin_emails.PASSWORD_RESET), USERS_CREDENTIALS),
        BulkAction("send_signup_confirmation", _sender(admin_emails.SIGNUP_CONFIRMATION), USERS_APPROVE),
        BulkAction("send_verify_email", _sender(admin_emails.VERIFY_EMAIL), USERS_CREDENTIALS),
    )
}
ACTIONS.update(EMAIL_ACTIONS)

# What a refusal without a field message means (the guard rails always carry their own message).
_REASONS = {
    Code.auth_invalid: "not allowed",
    Code.user_id_unknown: "no such user",
    Code.version_conflict: "changed by someone else meanwhile; try again",
}


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one user: `done`, `unchanged` (already so, or no sessions to end), `refused` (with
    the service's `message`) or `not_found`. `sessions`: how many sessions a sign-out ended."""

    user_id: str
    username: str | None
    outcome: Outcome
    message: str | None = None
    sessions: int | None = None


@dataclass(frozen=True)
class BulkTarget:
    """A selected user before anything is done: their username and live sessions (None: no such user)."""

    user_id: str
    username: str | None
    sessions: int = 0


def _invalid(field: str, message: str) -> SSOError:
    return SSOError.single(Kind.invalid, Code.invalid_input, field, message)


def check_action(action: Any) -> BulkAction:
    """The action named `action`, or E008002 naming the field `action`."""
    found = ACTIONS.get(action) if isinstance(action, str) else None
    if found is None:
        raise _invalid("action", "must be one of " + ", ".join(ACTIONS))
    return found


def check_user_ids(user_ids: Any) -> list[str]:
    """The ids in their first order with duplicates collapsed, or E008002 naming the field `user_ids`:
    not a list, empty, more than BULK_MAX, or an item that cannot be a user id (not text, empty, too long,
    control characters). An id that is well-formed but names nobody is a `not_found` outcome, not an error."""
    if not isinstance(user_ids, list | tuple):
        raise _invalid("user_ids", "must be a list of user ids")
    for position, user_id in enumerate(user_ids, 1):
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > USER_ID_MAX or text_problem(user_id):
            raise _invalid("user_ids", f"item {position} is not a user id")
    unique = list(dict.fromkeys(user_ids))
    if not unique:
        raise _invalid("user_ids", "select at least one user")
    if len(unique) > BULK_MAX:
        raise _invalid("user_ids", f"at most {BULK_MAX} users at a time")
    return unique


def _check(action: Any, user_ids: Any) -> tuple[BulkAction, list[str]]:
    """Both inputs checked, every problem reported at once (E008002 naming `action` and/or `user_ids`)."""
    errors = FieldErrors()
    chosen, ids = None, None
    try:
        chosen = check_action(action)
    except SSOError as error:
        errors.add("action", error.errors["action"])
    try:
        ids = check_user_ids(user_ids)
    except SSOError as error:
        errors.add("user_ids", error.errors["user_ids"])
    errors.raise_if_any(Kind.invalid)
    assert chosen is not None and ids is not None
    return chosen, ids


def _rows(conn, user_ids: list[str]) -> dict[str, Any]:
    columns = (users.c.user_id, users.c.username, users.c.version)
    return {row.user_id: row for row in conn.execute(select(*columns).where(users.c.user_id.in_(user_ids)))}


def selection(ctx: Context, call: Call, user_ids) -> list[BulkTarget]:
    """The selected users as a confirmation shows them (`users.view`): username and live sessions, in order."""
    ids = check_user_ids(user_ids)
    with reading(ctx.engine) as conn:
        require(authenticate(ctx, conn, call), USERS_VIEW)
        found = _rows(conn, ids)
        counts: dict[str, int] = dict(
            conn.execute(
                select(sessions.c.user_id, func.count())
                .where(sessions.c.user_id.in_(ids), sessions.c.expiration_time > ctx.clock())
                .group_by(sessions.c.user_id)
            ).all()
        )
    return [
        BulkTarget(user_id, found[user_id].username if user_id in found else None, counts.get(user_id, 0))
        for user_id in ids
    ]


def _refusal(error: SSOError) -> str:
    if error.errors.get("user_id") == NOT_OVER:  # a stronger administrator (SPEC §17)
        return "not allowed"
    if error.errors:
        return "; ".join(error.errors.values())
    code = error.sub_status[0] if error.sub_status else ""
    return _REASONS.get(code, f"refused ({code})")


def bulk_action(ctx: Context, call: Call, action, user_ids) -> list[BulkOutcome]:
    """Run `action` (approve, reject, lock, unlock, sign_out, delete) for each of `user_ids` (the action's
    permission), each through the single call in its own transaction; returns each user's outcome, in
    order: a user the caller may not act on (SPEC §17) is `refused`, "not allowed"."""
    chosen, ids = _check(action, user_ids)
    outcomes: list[BulkOutcome] = []
    with one_authentication():
        with reading(ctx.engine) as conn:
            require(authenticate(ctx, conn, call), chosen.permission)
            before = _rows(conn, ids)
        for user_id in ids:
            row = before.get(user_id)
            username = row.username if row is not None else None
            if row is None:
                outcomes.append(BulkOutcome(user_id, None, "not_found"))
                continue
            try:
                result = chosen.call(ctx, call, user_id)
            except SSOError as error:
                if error.kind == Kind.not_found:  # removed since the read above
                    outcomes.append(BulkOutcome(user_id, username, "not_found"))
                else:
                    outcomes.append(BulkOutcome(user_id, username, "refused", _refusal(error)))
                continue
            if chosen.name == "sign_out":
                outcomes.append(BulkOutcome(user_id, username, "done" if result else "unchanged", sessions=result))
            elif isinstance(result, UserData) and result.version == row.version:  # an update that wrote nothing
                outcomes.append(BulkOutcome(user_id, username, "unchanged"))
            else:
                outcomes.append(BulkOutcome(user_id, username, "done"))
    return outcomes


# --- required actions (SPEC §19): for the selected users, or every user a filter matches ---------------------


def _check_required_action(action: Any, clear: Any) -> tuple[str, bool]:
    errors = FieldErrors()
    if not isinstance(action, str) or action not in REQUIRED_ACTIONS:
        errors.add("required_action", "must be one of " + ", ".join(REQUIRED_ACTIONS))
    if type(clear) is not bool:
        errors.add("clear", "must be true or false")
    errors.raise_if_any(Kind.invalid)
    return action, clear


def required_action(ctx: Context, call: Call, action, user_ids, *, clear=False) -> list[BulkOutcome]:
    """Set (or `clear`) one required action for each of `user_ids` (`users.credentials`), each through the
    update of one user (its own transaction, audit record and guard rails); each user's outcome, in order."""
    action, clear = _check_required_action(action, clear)
    ids = check_user_ids(user_ids)
    outcomes: list[BulkOutcome] = []
    with one_authentication():
        with reading(ctx.engine) as conn:
            require(authenticate(ctx, conn, call), USERS_CREDENTIALS)
            before = _rows(conn, ids)
        for user_id in ids:
            row = before.get(user_id)
            if row is None:
                outcomes.append(BulkOutcome(user_id, None, "not_found"))
                continue
            try:
                with reading(ctx.engine) as conn:
                    user = conn.execute(select(users).where(users.c.user_id == user_id)).mappings().first()
                    if user is None:
                        raise no_such_user()
                    current = pending_of(conn, user)
                wanted = [a for a in current if a != action] if clear else [*current, action]
                result = updating.update_user(
                    ctx, call, user_id, {ACTIONS_KEY: wanted}, expected_version=user["version"]
                )
            except SSOError as error:
                if error.kind == Kind.not_found:
                    outcomes.append(BulkOutcome(user_id, row.username, "not_found"))
                else:
                    outcomes.append(BulkOutcome(user_id, row.username, "refused", _refusal(error)))
                continue
            changed = result.version != user["version"]
            outcomes.append(BulkOutcome(user_id, row.username, "done" if changed else "unchanged"))
    return outcomes


def _within_reach(caller) -> Any:
    """Whom a caller may act on in a set-based run: anyone for a super-user; otherwise nobody who is a
    super-user or holds any role (SPEC §17's "nobody stronger", taken conservatively without a per-user check)."""
    if caller.is_super_user:
        return true()
    holds_a_role = select(user_roles.c.user_id).where(user_roles.c.user_id == users.c.user_id).exists()
    return and_(users.c.is_super_user.is_(False), ~holds_a_role)


def filter_count(ctx: Context, call: Call, criteria) -> int:
    """How many users `criteria` match (what a bulk action on the filter would act on; `users.view`)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        require(caller, USERS_VIEW)
        where = and_(matching(conn, criteria), _within_reach(caller))
        return conn.execute(select(func.count()).select_from(users).where(where)).scalar_one()


def required_action_by_filter(ctx: Context, call: Call, action, criteria, *, clear=False) -> int:
    """Set (or `clear`) one required action for every user `criteria` match (`users.view` and
    `users.credentials`), set-based: one statement per batch of users (`required_actions.in_batches`, each
    transaction inside the database deadline however many match), then one audit record naming the filter
    and the count; returns how many users changed."""
    action, clear = _check_required_action(action, clear)
    column = users.c.password_must_change
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        require(caller, USERS_VIEW)
        require(caller, USERS_CREDENTIALS)
        where = and_(matching(conn, criteria), _within_reach(caller))

    def step(conn, clause) -> int:
        if action == CHANGE_PASSWORD:  # a column of the user (Zato's flag), so the version moves too
            result = conn.execute(
                update(users).where(clause).values(password_must_change=not clear, version=users.c.version + 1)
            )
            return max(result.rowcount or 0, 0)
        if clear:
            return clear_for_all(conn, action, clause)
        return add_for_all(conn, action, clause, now)

    changing = and_(where, column.is_(clear)) if action == CHANGE_PASSWORD else where  # those not already so
    count = in_batches(ctx.engine, changing, step)
    with writing(ctx.engine) as conn:
        record(
            conn,
            now=now,
            **call.audit(),
            action="bulk_required_action",
            actor_id=caller.user_id,
            target_id="filter",
            changes={
                ACTIONS_KEY: change(None, {"action": action, "clear": clear, "users": max(count or 0, 0)}),
                "filter": change(None, jsonable_criteria(criteria)),
            },
        )
    return max(count or 0, 0)


def jsonable_criteria(criteria: Any) -> Any:
    """The filter as the audit keeps it (JSON values only)."""
    return {
        str(key): value if isinstance(value, str | int | bool | None) else str(value) for key, value in criteria.items()
    }
