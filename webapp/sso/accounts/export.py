"""Audit export: every record, or the changes made to one user, as JSON lines or CSV.

Records are read in id order in batches, each batch in its own short read transaction, and handed on
as text chunks: memory stays flat however long the trail, and no transaction stays open while the
consumer (a file, a slow browser) takes its time. The upper bound is the newest id when the export
starts, so rows written meanwhile do not make it run forever.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Text, cast, func, select

from ...db import reading
from ..kernel.attributes import text_problem
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.permissions import AUDIT_VIEW, require
from ..kernel.presentation import jsonable
from ..kernel.tables import audit

FORMATS = ("jsonl", "csv")
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
COLUMNS = (
    "id",
    "time",
    "cid",
    "action",
    "actor_id",
    "target_id",
    "channel",
    "current_app",
    "remote_addr",
    "user_agent",
    "restored_from",
    "changes",
)
BATCH = 1000
# A spreadsheet would run a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def audit_rows(
    engine: Engine, *, since: datetime | None = None, target_id: str | None = None, batch: int = BATCH
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of audit records in id order, each a tuple in `COLUMNS` order whose `changes` is the stored
    JSON text (optionally from `since`, or only those whose target is `target_id`). Each batch is read in its
    own short transaction, even within a request's shared read (a download streams for as long as it takes)."""
    with reading(engine, alone=True) as conn:
        newest = conn.execute(select(func.max(audit.c.id))).scalar()
    if newest is None:
        return
    columns = [audit.c[name] for name in COLUMNS[:-1]] + [cast(audit.c.changes, Text)]
    after = 0
    while True:
        query = select(*columns).where(audit.c.id > after, audit.c.id <= newest).order_by(audit.c.id).limit(batch)
        if since is not None:
            query = query.where(audit.c.time >= since)
        if target_id is not None:
            query = query.where(audit.c.target_id == target_id)
        with reading(engine, alone=True) as conn:
            rows = [tuple(row) for row in conn.execute(query)]
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _jsonl(batches: Iterator[list[tuple[Any, ...]]]) -> Iterator[str]:
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for rows in batches:
        lines = []
        for row in rows:
            head = encode({name: jsonable(value) for name, value in zip(COLUMNS[:-1], row[:-1], strict=True)})
            lines.append(f'{head[:-1]}, "changes": {row[-1] or "null"}}}\n')
        yield "".join(lines)


def cell(value: Any) -> Any:
    """A value as a CSV cell: a time in ISO 8601, text a spreadsheet would run as a formula prefixed with `'`."""
    if isinstance(value, datetime):
        return jsonable(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(batches: Iterator[list[tuple[Any, ...]]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for rows in batches:
        writer.writerows([cell(value) for value in row] for row in rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def render(rows: Iterator[list[tuple[Any, ...]]], fmt: str) -> Iterator[str]:
    """The records as text chunks in `fmt` (jsonl: one JSON object per line; csv: a header row first,
    `changes` as JSON text, cells that a spreadsheet would run as a formula prefixed with `'`)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return _jsonl(rows) if fmt == "jsonl" else _csv(rows)


def export_all(ctx: Context, *, since: datetime | None = None, fmt: str = "jsonl") -> Iterator[str]:
    """The whole trail (the operator's command line: no session involved)."""
    return render(audit_rows(ctx.engine, since=since), fmt)


def export_history(ctx: Context, call: Call, user_id, *, fmt: str = "jsonl") -> Iterator[str]:
    """The changes made to `user_id`, for a holder of `audit.view` or the user themself.
    The caller is checked now, before the first chunk, so a refusal is an error rather than a broken file."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    if user_id != caller.user_id:
        require(caller, AUDIT_VIEW)
    if not isinstance(user_id, str) or text_problem(user_id):
        return render(iter(()), fmt)
    return render(audit_rows(ctx.engine, target_id=user_id), fmt)
