"""Required actions at next sign-in (SPEC §19): what a user must do before anything else.

`change_password` is the user's `password_must_change` column (one truth, so Zato's E003007 at login is
unchanged); the other actions are rows of `sso_required_action`. A user's pending actions are always
listed in ACTIONS' order, the order the console leads a person through them.

The gate: while actions are pending, every authenticated call is refused with E012001 (403) and the list,
except the calls that complete one of them (each names what it completes, `authenticate(completes=…)`)
and logging out. `change_password` alone keeps Zato's behaviour: refused at login (E003007), not on a live
session (`gate`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, literal, select

from ...db import writing
from .errors import Code, FieldErrors, Kind, SSOError
from .tables import required_actions, terms_versions, users
from .texts import _t

CHANGE_PASSWORD = "change_password"
SET_UP_TWO_FACTOR = "set_up_two_factor"
VERIFY_EMAIL = "verify_email"
COMPLETE_PROFILE = "complete_profile"
ACCEPT_TERMS = "accept_terms"
ACTIONS = (CHANGE_PASSWORD, SET_UP_TWO_FACTOR, VERIFY_EMAIL, COMPLETE_PROFILE, ACCEPT_TERMS)
STORED = ACTIONS[1:]  # the rows of sso_required_action (change_password is a column)
ANY = frozenset(ACTIONS)  # a call that passes the gate whatever is pending (logging out)
KEY = "required_actions"  # the attribute's name on the wire and in `data`
STORED_COLUMN = "stored_actions"  # the caller's row: its stored actions, space-separated (caller.py)


def ordered(actions: Iterable[str]) -> list[str]:
    """`actions` in ACTIONS' order, each once."""
    wanted = set(actions)
    return [action for action in ACTIONS if action in wanted]


def of_row(user: Any, stored: Iterable[str] | str | None) -> list[str]:
    """A user's pending actions from their row (`password_must_change`) and their stored actions."""
    names = stored.split() if isinstance(stored, str) else list(stored or ())
    return ordered([*names, *([CHANGE_PASSWORD] if user["password_must_change"] else [])])


def stored_of(conn: Connection, user_id: str) -> list[str]:
    """The actions stored for `user_id` (in ACTIONS' order)."""
    rows = conn.execute(select(required_actions.c.action).where(required_actions.c.user_id == user_id)).scalars()
    return ordered(rows)


def pending_of(conn: Connection, user: Any) -> list[str]:
    """Every pending action of the user row `user`."""
    return of_row(user, stored_of(conn, user["user_id"]))


def stored_subquery(user_id_column: Any) -> Any:
    """A correlated subquery: the user's stored actions joined by spaces (NULL when none)."""
    return (
        select(func.aggregate_strings(required_actions.c.action, " "))
        .where(required_actions.c.user_id == user_id_column)
        .scalar_subquery()
    )


def actions_required(pending: list[str]) -> SSOError:
    """E012001 (403): the call waits until the required actions are done; the answer lists them."""
    return SSOError(
        Kind.forbidden,
        [Code.actions_required],
        {KEY: _t("complete the required actions first: %(actions)s", actions=", ".join(pending))},
        extra={KEY: list(pending)},
    )


def gate(pending: list[str], completes: Iterable[str]) -> None:
    """E012001 when actions are pending and the call completes none of them. `change_password` alone does not
    close the gate: it is Zato's must-change flag, which Zato enforces at login only (E003007), so a Zato
    client's session that is live when an administrator sets it keeps working, as with Zato (SPEC §19: "Zato
    clients see no change"); the console still sends the person to change it first."""
    if set(pending) & set(STORED) and not set(pending) & set(completes):
        raise actions_required(pending)


def check_actions(value: Any, errors: FieldErrors, field: str = KEY) -> list[str] | None:
    """A list of action names, checked (E008002 naming `field`: not a list, an unknown name); None on error."""
    if not isinstance(value, list | tuple):
        errors.add(field, _t("must be a list of actions, each one of: %(choices)s", choices=", ".join(ACTIONS)))
        return None
    unknown = [item for item in value if not isinstance(item, str) or item not in ACTIONS]
    if unknown:
        shown = ", ".join(repr(item) for item in unknown[:5])
        errors.add(
            field,
            _t("unknown action %(names)s; each must be one of: %(choices)s", names=shown, choices=", ".join(ACTIONS)),
        )
        return None
    return ordered(value)


def write_stored(conn: Connection, user_id: str, before: Iterable[str], after: Iterable[str], now: datetime) -> None:
    """Make the stored actions of `user_id` go from `before` to `after` (change_password ignored)."""
    old, new = set(before) & set(STORED), set(after) & set(STORED)
    if old - new:
        conn.execute(
            delete(required_actions).where(
                required_actions.c.user_id == user_id, required_actions.c.action.in_(sorted(old - new))
            )
        )
    for action in ordered(new - old):
        conn.execute(insert(required_actions).values(user_id=user_id, action=action, set_time=now))


def clear_stored(conn: Connection, user_id: str, action: str) -> bool:
    """Remove one stored action of `user_id` (inside the caller's transaction); whether it was there."""
    result = conn.execute(
        delete(required_actions).where(required_actions.c.user_id == user_id, required_actions.c.action == action)
    )
    return result.rowcount > 0


def _has(action: str) -> Any:
    """The user (of the enclosing query) has `action` stored (a correlated EXISTS on the primary key)."""
    return (
        select(literal(1))
        .where(required_actions.c.user_id == users.c.user_id, required_actions.c.action == action)
        .exists()
    )


def add_for_all(conn: Connection, action: str, where: Any, now: datetime) -> int:
    """Set `action` for every user matching `where` who lacks it, in one INSERT … SELECT (set-based: one
    statement for a million users, no row read into Python); returns how many gained it."""
    lacking = (
        select(users.c.user_id, literal(action), literal(now))
        .where(where)
        .where(
            ~select(literal(1))
            .where(required_actions.c.user_id == users.c.user_id, required_actions.c.action == action)
            .exists()
        )
    )
    # Counted in the same transaction first: the driver's row count of an INSERT … SELECT is not reliable
    # everywhere (psycopg answers 0 for it here).
    count = conn.execute(select(func.count()).select_from(lacking.subquery())).scalar_one()
    if count:
        conn.execute(insert(required_actions).from_select(["user_id", "action", "set_time"], lacking))
    return count


def clear_for_all(conn: Connection, action: str, where: Any) -> int:
    """Remove `action` from every user matching `where`, in one DELETE; returns how many lost it."""
    matching = select(users.c.user_id).where(where)
    result = conn.execute(
        delete(required_actions).where(required_actions.c.action == action, required_actions.c.user_id.in_(matching))
    )
    return max(result.rowcount or 0, 0)


def ask_newcomer(conn: Connection, user_id: str, now: datetime) -> list[str]:
    """Inside a new user's insert: when the current terms require everyone's acceptance, the newcomer is asked
    too (they never accepted that version); returns the actions stored for them."""
    current = conn.execute(
        select(terms_versions.c.requires_acceptance).order_by(terms_versions.c.version.desc()).limit(1)
    ).scalar()
    if not current:
        return []
    conn.execute(insert(required_actions).values(user_id=user_id, action=ACCEPT_TERMS, set_time=now))
    return [ACCEPT_TERMS]


BATCH = 20_000  # users per transaction of a set-based run: well inside the database deadline (SSO_DB_TIMEOUT)


def in_batches(engine: Engine, where: Any, step: Callable[[Connection, Any], int], batch: int | None = None) -> int:
    """Run `step(conn, clause)` over every user `where` matches, `batch` users (in user id order) per write
    transaction, each under the database deadline however many users there are (a million users: fifty
    transactions of a fraction of a second, not one of many seconds); returns the sum of what the steps
    counted. Users added meanwhile beyond the last batch's boundary are included by the last batch."""
    batch = batch or BATCH
    total, last = 0, None
    while True:
        with writing(engine) as conn:
            after = where if last is None else and_(where, users.c.user_id > last)
            boundary = conn.execute(
                select(users.c.user_id).where(after).order_by(users.c.user_id).offset(batch - 1).limit(1)
            ).scalar()
            total += step(conn, after if boundary is None else and_(after, users.c.user_id <= boundary))
        if boundary is None:
            return total
        last = boundary
