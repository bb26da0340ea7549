"""The account policies' dry run and run (issue 27, SPEC §19).

Who is due: *lock_inactive*, an account (not a super-user, not locked, its sign-up confirmed, no deletion
scheduled) whose newest sign-in (the audit's `login` records; never signed in: its sign-up time) is N days old;
*delete_unconfirmed*, a sign-up still waiting for its confirmation N days after it was made. The action is due at
that reference time + N days (the *due time*, to the second).

With *warn_before* on (W days), a user is warned (an email in their language, through the outbox) from W days
before the due time, once per user per due action; and the action waits until the warning is W days old, so
nobody is locked or deleted without the warning W days before (switching a policy on over overdue accounts
warns them first). A user without an email address is "warned" without a message (the claim is kept) and acted
on W days later alike.

Each user is acted on in a transaction of their own that first inserts a claim row (user, policy, due time)
under a unique constraint, then reads the user FOR UPDATE and checks that they are still due, then acts through
the normal call (the lock is the update of `is_locked`, §8's delete is `delete_row`), audited with channel
`policy`. A second run finds the claim and does nothing; two runs at once (two nodes) meet at the constraint:
PostgreSQL makes the second insert wait for the first transaction and then refuses it, SQLite runs one writer at
a time. So no user is acted on (or warned) twice, on either database. A signed-in user meanwhile moves the due
time: nothing is claimed for the old one. The dry run computes the very same lists without writing.

The run also carries out the deletions people scheduled (SPEC §20, `privacy.deletion.delete_due`), first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..accounts.lifecycle import delete_row
from ..accounts.update import RowMoved, write_update
from ..email import tokens
from ..email.admin_emails import recipient_language
from ..email.mail import render, when
from ..email.outbox import enqueue
from ..email.signup import CONFIRM_PATH
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import operator
from ..kernel.context import Context
from ..kernel.errors import SSOError
from ..kernel.rows import load_user
from ..kernel.tables import audit, policy_claims, users
from ..privacy.deletion import delete_due
from .settings import ACTIONS, DELETE_UNCONFIRMED, LOCK_INACTIVE, WARN_BEFORE, Policy, check_values, load, manager

PAGE = 50  # the users a dry run lists per policy (the count is of all)
WARNING = {LOCK_INACTIVE: "warn_lock_inactive", DELETE_UNCONFIRMED: "warn_delete_unconfirmed"}
OUTCOME = {LOCK_INACTIVE: "locked", DELETE_UNCONFIRMED: "deleted"}
LOGIN_PATH = "/login"
CHUNK = 500  # ids per IN (…) when reading claims


@dataclass(frozen=True)
class Due:
    """A user a policy is about: their action's due time, and what a run does to them now."""

    user_id: str
    username: str
    email: str | None
    locale: str | None
    policy: str  # lock_inactive or delete_unconfirmed
    due_time: datetime
    step: str  # "warn" or "act"


@dataclass
class Plan:
    """What a run would do now, per policy: the users it would act on and those it would warn (each sorted by
    username)."""

    act: dict[str, list[Due]] = field(default_factory=dict)
    warn: dict[str, list[Due]] = field(default_factory=dict)


@dataclass
class RunReport:
    """What a run did: per user (username, what), and the claims another run (or an earlier one) held."""

    done: list[tuple[str, str]] = field(default_factory=list)  # (username, "locked"/"deleted"/"warned …")
    refused: list[tuple[str, str]] = field(default_factory=list)  # (username, why)
    skipped: int = 0  # claimed already, or no longer due when read again
    scheduled_deletions: list[tuple[str, str]] = field(default_factory=list)  # delete_due's outcomes


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _last_sign_in():
    """A user's newest login (the audit's (target_id, id) index), as the user list reads it."""
    return (
        select(audit.c.time)
        .where(audit.c.target_id == users.c.user_id, audit.c.action == "login")
        .order_by(audit.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _reference_column(policy: str):
    if policy == LOCK_INACTIVE:
        return func.coalesce(_last_sign_in(), users.c.sign_up_time)
    return users.c.sign_up_time


def _who(policy: str):
    """The users a policy may be about at all."""
    if policy == LOCK_INACTIVE:
        return and_(
            users.c.is_locked.is_(False),
            users.c.is_super_user.is_(False),
            users.c.sign_up_status == "final",
            users.c.deletion_time.is_(None),
        )
    return and_(users.c.sign_up_status == "before_confirmation", users.c.deletion_time.is_(None))


def _claims(conn: Connection, user_ids: list[str], names: Iterable[str]) -> dict[tuple[str, str, datetime], datetime]:
    """{(user_id, policy, due_time): claimed_time} of the claims of `names` on `user_ids`."""
    found: dict[tuple[str, str, datetime], datetime] = {}
    names = list(names)
    for start in range(0, len(user_ids), CHUNK):
        chunk = user_ids[start : start + CHUNK]
        query = select(
            policy_claims.c.user_id, policy_claims.c.policy, policy_claims.c.due_time, policy_claims.c.claimed_time
        ).where(policy_claims.c.user_id.in_(chunk), policy_claims.c.policy.in_(names))
        for row in conn.execute(query):
            found[(row.user_id, row.policy, _whole_seconds(row.due_time))] = row.claimed_time
    return found


def plan(conn: Connection, settings: dict[str, Policy], now: datetime) -> Plan:
    """Who a run at `now` acts on and warns, with these settings (reads only)."""
    result = Plan()
    warn = settings[WARN_BEFORE]
    warn_days = warn.days if warn.enabled else 0
    for name in ACTIONS:
        policy = settings[name]
        result.act[name], result.warn[name] = [], []
        if not policy.enabled:
            continue
        reference = _reference_column(name).label("reference")
        horizon = now - timedelta(days=policy.days) + timedelta(days=warn_days)
        rows = conn.execute(
            select(users.c.user_id, users.c.username, users.c.email, users.c.locale, reference)
            .where(_who(name), _reference_column(name) <= horizon)
            .order_by(users.c.username_search, users.c.user_id)
        ).all()
        claims = _claims(conn, [row.user_id for row in rows], [name, WARNING[name]]) if rows else {}
        for row in rows:
            due = _whole_seconds(row.reference + timedelta(days=policy.days))
            if (row.user_id, name, due) in claims:
                continue  # acted on already for this due time (and since then unlocked, say, by an administrator)
            if warn_days:
                warned = claims.get((row.user_id, WARNING[name], due))
                if warned is None:
                    step = "warn"
                elif due <= now and warned <= now - timedelta(days=warn_days):
                    step = "act"
                else:
                    continue  # warned; waiting out the warning
            elif due <= now:
                step = "act"
            else:
                continue
            entry = Due(row.user_id, row.username, row.email, row.locale, name, due, step)
            (result.act if step == "act" else result.warn)[name].append(entry)
    return result


@dataclass(frozen=True)
class DryRun:
    """A dry run's answer per policy: how many users it would act on and warn, and the first PAGE of each."""

    settings: dict[str, Policy]
    act_count: dict[str, int]
    warn_count: dict[str, int]
    act: dict[str, list[Due]]
    warn: dict[str, list[Due]]


def dry_run(ctx: Context, call: Call | None, changes: dict[str, tuple[bool, int]] | None = None) -> DryRun:
    """What a run now would do (policies.manage; `call` None: the operator), with the stored settings or with
    `changes` ({name: (enabled, days)}) in their place: the question to answer before switching one on."""
    if call is not None:
        manager(ctx, call)
    with reading(ctx.engine) as conn:
        settings = load(conn)
        for name, (enabled, days) in (changes or {}).items():
            enabled, days = check_values(enabled, days)
            settings[name] = replace(settings[name], enabled=enabled, days=days)
        found = plan(conn, settings, ctx.clock())
    return DryRun(
        settings,
        {name: len(found.act[name]) for name in ACTIONS},
        {name: len(found.warn[name]) for name in ACTIONS},
        {name: found.act[name][:PAGE] for name in ACTIONS},
        {name: found.warn[name][:PAGE] for name in ACTIONS},
    )


# --- the run -------------------------------------------------------------------------------------------------


def _claim(conn: Connection, user_id: str, policy: str, due: datetime, now: datetime, outcome: str) -> None:
    """The claim row; IntegrityError when another run holds it (raised out of the user's transaction)."""
    conn.execute(
        insert(policy_claims).values(user_id=user_id, policy=policy, due_time=due, claimed_time=now, outcome=outcome)
    )


def _still_due(conn: Connection, entry: Due, policy: Policy) -> Any:
    """The user's row (FOR UPDATE) if they are still due at the same due time, else None."""
    user = load_user(conn, entry.user_id, lock=True)
    if user is None:
        return None
    query = select(_reference_column(entry.policy)).where(users.c.user_id == entry.user_id, _who(entry.policy))
    reference = conn.execute(query).scalar()
    if reference is None or _whole_seconds(reference + timedelta(days=policy.days)) != entry.due_time:
        return None
    return user


def _warn(ctx: Context, conn: Connection, call: Call, user: Any, entry: Due, warn_days: int, now: datetime) -> None:
    """The warning (email, if the user has an address) and its audit record."""
    if user["email"]:
        locale = recipient_language(ctx, user)
        settings = ctx.settings
        values: dict[str, Any] = {
            "product": settings["SSO_PRODUCT_NAME"],
            "username": user["username"],
            "due": when(entry.due_time, locale),
            "locale": locale,
        }
        if entry.policy == LOCK_INACTIVE:
            values["link"] = settings["SSO_PUBLIC_URL"] + LOGIN_PATH
        else:  # a fresh confirmation link (the first one has long expired), valid until the deletion
            expires = max(entry.due_time, now + timedelta(days=warn_days))
            token = tokens.issue(conn, tokens.SIGNUP, user["user_id"], now, expires)
            values["link"] = settings["SSO_PUBLIC_URL"] + CONFIRM_PATH + token
        template = "policy/lock_warning" if entry.policy == LOCK_INACTIVE else "policy/delete_warning"
        enqueue(ctx, conn, render(template, user["email"], **values), user_id=user["user_id"])
    record(
        conn,
        now=now,
        **call.audit(),
        action="policy_warning",
        actor_id=None,
        target_id=user["user_id"],
        changes={
            "policy_warning": change(None, entry.policy),
            **({"email_sent": change(None, user["email"])} if user["email"] else {}),  # none: nowhere to send it
        },
    )


def _act(ctx: Context, conn: Connection, call: Call, user: Any, entry: Due) -> None:
    """Lock or delete through the normal calls' writes (guard rails and audit included)."""
    if entry.policy == LOCK_INACTIVE:
        write_update(ctx, conn, operator(), user, {"is_locked": True}, call.audit())
    else:
        delete_row(ctx, conn, user, actor_id=None, audit_context=call.audit())


def _one(ctx: Context, call: Call, entry: Due, settings: dict[str, Policy], now: datetime, report: RunReport) -> None:
    warn = settings[WARN_BEFORE]
    policy_name = WARNING[entry.policy] if entry.step == "warn" else entry.policy
    try:
        with writing(ctx.engine) as conn:
            outcome = "warned" if entry.step == "warn" else OUTCOME[entry.policy]
            _claim(conn, entry.user_id, policy_name, entry.due_time, now, outcome)
            user = _still_due(conn, entry, settings[entry.policy])
            if user is None:
                raise _NoLongerDue()
            if entry.step == "warn":
                _warn(ctx, conn, call, user, entry, warn.days, now)
            else:
                _act(ctx, conn, call, user, entry)
    except (IntegrityError, _NoLongerDue, RowMoved):
        report.skipped += 1
        return
    except SSOError as error:  # a guard rail (e.g. the last role manager): nothing written, tried again next run
        report.refused.append((entry.username, "; ".join(error.errors.values()) or error.sub_status[0]))
        return
    label = f"warned ({entry.policy})" if outcome == "warned" else outcome
    report.done.append((entry.username, label))


class _NoLongerDue(Exception):
    """The user changed between the plan and their transaction (signed in, confirmed, locked, deleted)."""


def run_policies(ctx: Context, call: Call | None = None, *, now: datetime | None = None) -> RunReport:
    """Carry out the due scheduled deletions, then every switched-on policy (policies.manage; `call` None: the
    operator's command). Every record it writes has channel `policy`."""
    if call is not None:
        manager(ctx, call)
    base = call if call is not None else Call(cid="run-policies")
    policy_call = replace(base, channel="policy", ust=None, bearer=None)
    now = now or ctx.clock()
    report = RunReport()
    report.scheduled_deletions = delete_due(ctx, now=now)
    with reading(ctx.engine) as conn:
        settings = load(conn)
        found = plan(conn, settings, now)
    for name in ACTIONS:  # warnings first: a user warned now is not acted on in the same run
        for entry in found.warn[name]:
            _one(ctx, policy_call, entry, settings, now, report)
    for name in ACTIONS:
        for entry in found.act[name]:
            _one(ctx, policy_call, entry, settings, now, report)
    return report
