"""The audit history (SPEC §4, §7): one's own activity, or the changes made to one user; paged and filtered.

Paging is by record id (newest first): `before` gives the page of records older than that id, `after`
the page newer than it, so a page stays put while new records arrive and no page is slower than the
first. Filters: `kind` (one action, e.g. "update"), `changes_only` (everything but sign-ins, which
are kept apart so a hundred logins do not push an account's creation and lock history out of view).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, union

from ...db import reading
from ..kernel.attributes import text_problem
from ..kernel.audit import SECRET_CHANGE
from ..kernel.call import Call
from ..kernel.caller import UserCaller, authenticate
from ..kernel.context import Context
from ..kernel.errors import FieldErrors, Kind
from ..kernel.permissions import AUDIT_VIEW, USERS_VIEW, require
from ..kernel.profile_fields import ProfileSchema, may
from ..kernel.profile_rows import load_schema
from ..kernel.tables import audit, users
from ..kernel.texts import _t

HISTORY_MAX = 500
SIGN_IN_ACTIONS = ("login", "logout")  # kept apart from changes ("changes only" leaves them out)
KIND_MAX = 64
# Made once: an alias builds a proxy of every column of `users` the first time its `.c` is read.
ACTOR, TARGET = users.alias("actor"), users.alias("target")


def history(ctx: Context, call: Call, user_id, *, limit: int = 50) -> list[dict]:
    """Audit records, newest first: with no `user_id`, the caller's own activity (what they did and
    what was done to them); with one, the changes made to that user's record (super-users, or oneself).
    Each record carries `actor_username` and `target_username` (None for a user that no longer exists)."""
    return history_page(ctx, call, user_id, limit=limit)["records"]


def _check(kind: Any, before: Any, after: Any, changes_only: Any, limit: Any) -> None:
    errors = FieldErrors()
    if kind is not None and (not isinstance(kind, str) or len(kind) > KIND_MAX or text_problem(kind)):
        errors.add("kind", _t("must be an action name of at most %(num)d characters", num=KIND_MAX))
    for name, value in (("before", before), ("after", after)):
        if value is not None and (type(value) is not int or value < 1 or value > 2**62):
            errors.add(name, _t("must be a record id (a whole number of at least 1)"))
    if before is not None and after is not None:
        errors.add("after", _t("give before or after, not both"))
    if type(changes_only) is not bool:
        errors.add("changes_only", _t("must be true or false"))
    if type(limit) is not int or limit < 1:
        errors.add("limit", _t("must be a whole number of at least 1"))
    errors.raise_if_any(Kind.invalid)


def history_page(
    ctx: Context,
    call: Call,
    user_id,
    *,
    limit: int = 50,
    before: int | None = None,
    after: int | None = None,
    kind: str | None = None,
    changes_only: bool = False,
) -> dict[str, Any]:
    """One page of audit records, newest first, and where the neighbouring pages start:
    `{"records", "has_older", "has_newer", "older_before", "newer_after"}`.

    In one's own activity (no `user_id`, or one's own id for a regular user) a record another person
    made keeps no address or browser of theirs: only super-users see where an administrator worked from.
    """
    _check(kind, before, after, changes_only, limit)
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        if user_id is not None and user_id != caller.user_id:
            require(caller, USERS_VIEW)
        if user_id is not None and (not isinstance(user_id, str) or text_problem(user_id)):
            return _page([], False, before, after)  # no user has such an id (and PostgreSQL could not compare it)
        size = max(1, min(limit, HISTORY_MAX))
        conditions: list[ColumnElement[bool]] = []
        if kind is not None:
            conditions.append(audit.c.action == kind)
        if changes_only:
            conditions.append(audit.c.action.not_in(SIGN_IN_ACTIONS))
        if before is not None:
            conditions.append(audit.c.id < before)
        if after is not None:
            conditions.append(audit.c.id > after)
        order = audit.c.id.asc() if after is not None else audit.c.id.desc()
        if user_id is None:
            # Two index-ordered LIMIT queries: an OR over both columns would sort every match.
            newest = [
                select(audit.c.id)
                .where(column == caller.user_id, *conditions)
                .order_by(order)
                .limit(size + 1)
                .subquery()
                for column in (audit.c.target_id, audit.c.actor_id)
            ]
            where: list[ColumnElement[bool]] = [audit.c.id.in_(union(*(select(part.c.id) for part in newest)))]
        else:
            where = [audit.c.target_id == user_id, *conditions]
        actor, target = ACTOR, TARGET
        query = (
            select(audit, actor.c.username.label("actor_username"), target.c.username.label("target_username"))
            .outerjoin(actor, actor.c.user_id == audit.c.actor_id)
            .outerjoin(target, target.c.user_id == audit.c.target_id)
            .where(*where)
            .order_by(order)
            .limit(size + 1)
        )
        records = [dict(row) for row in conn.execute(query).mappings()]
        _hide_unviewable(load_schema(conn), records, caller)
    more = len(records) > size
    records = records[:size]
    if after is not None:
        records.reverse()
    if user_id is None or (user_id == caller.user_id and not caller.holds(AUDIT_VIEW)):
        for record in records:
            if record["actor_id"] != caller.user_id:
                record["remote_addr"] = record["user_agent"] = None
    return _page(records, more, before, after)


def _hide_unviewable(schema: ProfileSchema, records: list[dict], caller: UserCaller) -> None:
    """A profile field the caller may not view on a record's user (SPEC §16's `view` set) shows in that
    record's changes as a secret does, "(not shown)" → "(changed)": the history tells that it changed, never
    what to (the export does the same, docs/DECISIONS.md)."""
    if not schema.fields:
        return
    roles, super_user = caller.role_names, caller.is_super_user
    for record in records:
        changes = record.get("changes")
        if not isinstance(changes, dict) or record["action"] == "profile_field":
            continue
        is_self = record["target_id"] == caller.user_id
        hidden = [
            name
            for name in changes
            if name in schema.by_name
            and not may(schema.by_name[name].view, super_user=super_user, is_self=is_self, roles=roles)
        ]
        if hidden:
            record["changes"] = {name: dict(SECRET_CHANGE) if name in hidden else c for name, c in changes.items()}


def _page(records: list[dict], more: bool, before, after) -> dict[str, Any]:
    """The page and its neighbours: `more` is whether a record lies beyond it in the direction read."""
    going_newer = after is not None
    return {
        "records": records,
        "has_older": bool(records) and ((not going_newer and more) or going_newer),
        "has_newer": bool(records) and ((going_newer and more) or before is not None),
        "older_before": records[-1]["id"] if records else None,
        "newer_after": records[0]["id"] if records else None,
    }
