"""The user list as CSV (issue 24): every user a search's criteria match, with the list's columns and the profile
fields the caller may view on others' records, sensitive ones left out (SPEC §16).

Streamed as the audit export is: the caller and the criteria are checked before the first chunk (a refusal is an
error, not a broken file); then the matches are read in username order by key (`after`), a batch at a time, each
batch in its own short read transaction, so memory stays flat at any size and no transaction stays open while a
slow consumer reads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ...db import reading
from ..kernel.call import Call
from ..kernel.caller import Caller, authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError
from ..kernel.inputs import reject_unknown
from ..kernel.permissions import USERS_VIEW, require
from ..kernel.presentation import jsonable
from ..kernel.profile_fields import ProfileField, ProfileSchema, may, wire_value
from ..kernel.profile_rows import load_many, load_schema
from .export import cell
from .search import match_query, search_keys, search_statements

# The list's own columns (what the console's user list shows), and the user's id first.
COLUMNS = (
    "user_id",
    "username",
    "display_name",
    "email",
    "approval_status",
    "is_locked",
    "sign_up_status",
    "sign_up_time",
    "last_sign_in",
)
BATCH = 100  # users a batch (the search's largest page)
# What an export's criteria may not carry: it is every match, in username order.
PAGING = ("paginate", "cur_page", "page_size", "after", "start_index", "order_by", "order", "with_last_sign_in")


def exported_fields(schema: ProfileSchema, caller: Caller) -> tuple[ProfileField, ...]:
    """The profile fields an export by `caller` carries: the active ones they may view on others' records,
    never a sensitive one."""
    super_user, roles = caller.is_super_user, caller.role_names
    return tuple(
        f for f in schema.active if not f.sensitive and may(f.view, super_user=super_user, is_self=False, roles=roles)
    )


def export_users(ctx: Context, call: Call, criteria: Any) -> Iterator[str]:
    """The users matching `criteria` (a search's, without paging or order) as CSV text chunks: a header row
    of column names (the list's columns, then the profile fields), then a row per user in username order."""
    criteria = {} if criteria is None else criteria
    if not isinstance(criteria, Mapping):
        raise SSOError(Kind.malformed, [Code.invalid_input], {"criteria": "must be an object"})
    criteria = {key: value for key, value in criteria.items() if key not in PAGING}
    with reading(ctx.engine) as conn:
        schema = load_schema(conn)
        reject_unknown(criteria, search_keys(schema), lambda key: "is not a search criterion")
        caller = authenticate(ctx, conn, call)
        require(caller, USERS_VIEW)
        search_statements(_batch(criteria, None), conn.dialect.name, schema=schema)  # raises on a bad criterion
    fields = exported_fields(schema, caller)
    return _csv(ctx, criteria, caller, [f.name for f in fields])


def _batch(criteria: Mapping[str, Any], after: str | None) -> dict[str, Any]:
    batch = {**criteria, "page_size": BATCH, "with_last_sign_in": True}
    if after is not None:
        batch["after"] = after
    return batch


def _rows(ctx: Context, criteria: Mapping[str, Any], caller: Caller, names: list[str]) -> Iterator[list[list[Any]]]:
    """Batches of CSV rows (cells in header order); the definitions are read again for each batch, and a
    field retired, made sensitive or hidden from the caller meanwhile is left empty from then on."""
    after: str | None = None
    while True:
        with reading(ctx.engine, alone=True) as conn:
            schema = load_schema(conn)
            rows = conn.execute(match_query(conn, _batch(criteria, after), schema)).mappings().all()[:BATCH]
            profiles = load_many(conn, schema, [row["user_id"] for row in rows])
        shown = {f.name: f for f in exported_fields(schema, caller)}
        yield [
            [row[name] for name in COLUMNS]
            + [
                wire_value(shown[name], profiles.get(row["user_id"], {}).get(name)) if name in shown else None
                for name in names
            ]
            for row in rows
        ]
        if len(rows) < BATCH:
            return
        after = rows[-1]["username_search"]


def _text(value: Any) -> Any:
    """A cell: a time in ISO 8601 UTC, a bool as true/false, a set of options as a JSON array, not set empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return cell(jsonable(value))


def _csv(ctx: Context, criteria: Mapping[str, Any], caller: Caller, names: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *names])
    for rows in _rows(ctx, criteria, caller, names):
        writer.writerows([_text(value) for value in row] for row in rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
