"""The transactional outbox (issue 27, SPEC §19): every email is a row of `sso_outbox`, written by `enqueue` in
the very transaction of the change it tells of, and delivered later by the worker (`worker.py`).

So a request never waits for SMTP, and a crash loses nothing: the change and its message are committed together
or not at all. The worker claims messages with a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several workers
never take the same row), sends, and marks each one sent in its own transaction: a worker killed mid-batch leaves
at most the one message it was sending unmarked, which goes again with the same Message-ID (at least once).

Bodies carry links with tokens: they are stored Fernet-encrypted and emptied once the message is sent. The
console (super-users) sees the queue and its failures, never a body, and can send a failed message again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from ...db import reading, writing
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError
from ..kernel.tables import outbox
from ..kernel.texts import _t
from .mail import Message, new_message_id

QUEUED, SENT, FAILED = "queued", "sent", "failed"
ERROR_MAX = 512
LIST_LIMIT = 100  # messages a console list shows
ID_LIMIT = 2**31  # message numbers are INTEGER columns
UNREADABLE = (
    "the message cannot be decrypted with SSO_FERNET_KEYS (the key it was written with was removed); it was not sent"
)


def _domain(settings: dict[str, Any]) -> str:
    return parseaddr(settings.get("SSO_MAIL_FROM", "no-reply@localhost"))[1].rpartition("@")[2] or "localhost"


def enqueue(ctx: Context, conn: Connection, message: Message, *, user_id: str | None = None) -> str:
    """Write `message` to the outbox inside the caller's transaction (`conn`); returns its Message-ID."""
    now = ctx.clock()
    message_id = new_message_id(_domain(ctx.settings))
    body = ctx.codec.seal(json.dumps({"text": message.text, "html": message.html}))
    conn.execute(
        insert(outbox).values(
            message_id=message_id,
            kind=message.kind[:64],
            recipient=message.to,
            subject=message.subject[:512],
            body=body,
            user_id=user_id,
            creation_time=now,
            status=QUEUED,
            attempts=0,
            next_attempt_time=now,
        )
    )
    return message_id


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds: what it needs to build and send it."""

    id: int
    message_id: str
    kind: str
    recipient: str
    subject: str
    text: str
    html: str
    creation_time: datetime
    attempts: int
    user_id: str | None


def _ready(now: datetime):
    """Queued, due, and held by no live lease."""
    return and_(
        outbox.c.status == QUEUED,
        outbox.c.next_attempt_time <= now,
        or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
    )


def claim(ctx: Context, worker_id: str, limit: int, lease_seconds: float) -> list[Claimed]:
    """Take up to `limit` due messages, oldest first, for `lease_seconds` (one short transaction).

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two workers claiming at once take different rows and neither waits.
    SQLite: the write transaction (BEGIN IMMEDIATE) serialises claims (SQLite ignores FOR UPDATE)."""
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        rows = (
            conn.execute(
                select(outbox).where(_ready(now)).order_by(outbox.c.id).limit(limit).with_for_update(skip_locked=True)
            )
            .mappings()
            .all()
        )
        if not rows:
            return []
        bodies = {row["id"]: ctx.codec.unseal(row["body"]) for row in rows}
        unreadable = [number for number, body in bodies.items() if body is None]
        if unreadable:  # never sent empty: failed, saying why
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(unreadable))
                .values(status=FAILED, last_error=UNREADABLE, last_attempt_time=now)
            )
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([number for number, body in bodies.items() if body is not None]))
            .values(lease_until=now + timedelta(seconds=lease_seconds), claimed_by=worker_id)
        )
    claimed = []
    for row in rows:
        body = bodies[row["id"]]
        if body is None:
            continue
        parts = json.loads(body)
        claimed.append(
            Claimed(
                id=row["id"],
                message_id=row["message_id"],
                kind=row["kind"],
                recipient=row["recipient"],
                subject=row["subject"],
                text=parts["text"],
                html=parts["html"],
                creation_time=row["creation_time"],
                attempts=row["attempts"],
                user_id=row["user_id"],
            )
        )
    return claimed


def _mine(message_id: int, worker_id: str):
    return and_(outbox.c.id == message_id, outbox.c.claimed_by == worker_id, outbox.c.status == QUEUED)


def mark_sent(ctx: Context, message_id: int, worker_id: str) -> bool:
    """Record a delivery (and empty the body); False when the lease was lost meanwhile (another worker took it)."""
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        done = conn.execute(
            update(outbox)
            .where(_mine(message_id, worker_id))
            .values(
                status=SENT,
                sent_time=now,
                last_attempt_time=now,
                attempts=outbox.c.attempts + 1,
                body=None,
                lease_until=None,
                claimed_by=None,
                last_error=None,
            )
        )
    return done.rowcount == 1


def mark_retry(
    ctx: Context, message_id: int, worker_id: str, error: str, *, delay: float | None, give_up: bool
) -> None:
    """Record a failed try: due again after `delay` seconds (None: at once, the worker backs off as a whole),
    or failed for good with `give_up`."""
    now = ctx.clock()
    values: dict[str, Any] = {
        "attempts": outbox.c.attempts + 1,
        "last_attempt_time": now,
        "last_error": error[:ERROR_MAX],
        "lease_until": None,
        "claimed_by": None,
    }
    if give_up:
        values["status"] = FAILED
    elif delay is not None:
        values["next_attempt_time"] = now + timedelta(seconds=delay)
    with writing(ctx.engine) as conn:
        conn.execute(update(outbox).where(_mine(message_id, worker_id)).values(**values))


def release(ctx: Context, message_ids: list[int], worker_id: str) -> None:
    """Give back claimed messages not tried (a worker stopping, or a batch cut short)."""
    if not message_ids:
        return
    with writing(ctx.engine) as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(message_ids), outbox.c.claimed_by == worker_id, outbox.c.status == QUEUED)
            .values(lease_until=None, claimed_by=None)
        )


# --- the state (metrics and console) --------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxState:
    """How many messages are in each status, and how long the oldest queued one has waited (seconds)."""

    queued: int
    sent: int
    failed: int
    oldest_queued_age: float


def state(ctx: Context) -> OutboxState:
    """The outbox's counts (sent: those kept, see prune) and the oldest queued message's age."""
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        counts: dict[str, int] = {}
        for status, count in conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)):
            counts[status] = count
        oldest = conn.execute(select(func.min(outbox.c.creation_time)).where(outbox.c.status == QUEUED)).scalar()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxState(counts.get(QUEUED, 0), counts.get(SENT, 0), counts.get(FAILED, 0), age)


_LISTED = (
    outbox.c.id,
    outbox.c.message_id,
    outbox.c.kind,
    outbox.c.recipient,
    outbox.c.subject,
    outbox.c.user_id,
    outbox.c.creation_time,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.next_attempt_time,
    outbox.c.last_attempt_time,
    outbox.c.last_error,
    outbox.c.sent_time,
)


def _super_user(ctx: Context, call: Call):
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    if not caller.is_super_user:  # no permission of SPEC §17 covers everyone's mail: super-users only
        raise SSOError.single(Kind.forbidden, Code.auth_invalid, "permission", _t("only a super-user sees the outbox"))
    return caller


def overview(ctx: Context, call: Call) -> dict[str, Any]:
    """For a super-user: the counts, the queued and failed messages (oldest first) and the latest sent ones.
    Never a body."""
    _super_user(ctx, call)
    with reading(ctx.engine) as conn:

        def listed(status: str, newest_first: bool = False) -> list[dict[str, Any]]:
            order = outbox.c.id.desc() if newest_first else outbox.c.id
            query = select(*_LISTED).where(outbox.c.status == status).order_by(order).limit(LIST_LIMIT)
            return [dict(row) for row in conn.execute(query).mappings()]

        lists = {"queued": listed(QUEUED), "failed": listed(FAILED), "sent": listed(SENT, newest_first=True)}
    return {"state": state(ctx), **lists}


def retry(ctx: Context, call: Call, message_id: Any) -> None:
    """For a super-user: queue a failed message again, due at once (audited); not failed → E008002."""
    caller = _super_user(ctx, call)
    if type(message_id) is not int:
        raise SSOError.single(Kind.invalid, Code.invalid_input, "message", _t("must be a message number"))
    if not 0 < message_id < ID_LIMIT:  # no row has it, and the database could not even compare it
        raise SSOError.single(Kind.not_found, Code.invalid_input, "message", _t("no such failed message"))
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        row = conn.execute(select(outbox.c.user_id, outbox.c.kind).where(outbox.c.id == message_id)).first()
        moved = conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.status == FAILED)
            .values(status=QUEUED, next_attempt_time=now, lease_until=None, claimed_by=None)
        )
        if row is None or moved.rowcount != 1:
            raise SSOError.single(Kind.not_found, Code.invalid_input, "message", _t("no such failed message"))
        record(
            conn,
            now=now,
            **call.audit(),
            action="outbox_retry",
            actor_id=caller.user_id,
            target_id=row.user_id or f"outbox:{message_id}",
            changes={"outbox_status": {"old": FAILED, "new": QUEUED}, "message": {"old": None, "new": row.kind}},
        )
