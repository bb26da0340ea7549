"""Searching users (SPEC §6): Zato's criteria and result shape, plus `q`, `is_locked` and `after`;
for the console (issue 11) `is_super_user`, `is_totp_enabled`, sorting (`order_by`, `order`, always
stable: ties are broken by user id; `after` pages only the username order) and `with_last_sign_in`
(each row gains `last_sign_in`, the time of the newest login in the audit trail, or None).

At scale (issue 14): *contains* matches use the trigram indexes of migration 0008 (PostgreSQL
pg_trgm GIN; SQLite FTS5 trigram, narrowed first and re-checked with LIKE); the count stops at
COUNT_CAP + 1 rows (`total_is_capped`: "more than 10,000"); `after` pages by key (the folded
username of the last row seen, `next_after` in the result), so inserts never shift a page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnClause, and_, column, func, literal, literal_column, not_, or_, select, table, true

from ...db import reading
from ..kernel.attributes import (
    ATTRIBUTES,
    NAME_ATTRIBUTES,
    as_utc,
    check_value,
    fold,
    parse_datetime,
    search_column,
    text_problem,
)
from ..kernel.call import Call
from ..kernel.caller import Caller, authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError
from ..kernel.inputs import reject_unknown
from ..kernel.permissions import USERS_VIEW, require
from ..kernel.presentation import user_view
from ..kernel.profile_fields import ProfileField, ProfileSchema, check_field_value, search_key
from ..kernel.profile_rows import load_many, load_schema
from ..kernel.required_actions import KEY as ACTIONS_KEY
from ..kernel.required_actions import of_row
from ..kernel.tables import SQLITE_SEARCH_TABLE, audit, profile_values, required_actions, users
from ..kernel.texts import _t

PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, UNPAGED_MAX = 50, 100, 1000
CUR_PAGE_MAX = 2**31 - 1  # keeps OFFSET inside a 64-bit integer
COUNT_CAP = 10_000  # a broad match is counted up to here: "more than 10,000"
TRIGRAM = 3  # the shortest text a trigram index can narrow (shorter: a scan)
SEARCH_KEYS = (
    "user_id",
    "username",
    "email",
    *NAME_ATTRIBUTES,
    "sign_up_status",
    "approval_status",
    "is_locked",
    "q",
    "is_name_exact",
    "name_op",
    "paginate",
    "cur_page",
    "page_size",
    "after",
    "is_super_user",
    "is_totp_enabled",
    "deletion_scheduled",
    "order_by",
    "order",
    "with_last_sign_in",
)
# Criteria only the SCIM face sends (SPEC §21): an exact externalId, the structured `filter` below, and
# SCIM's 1-based `start_index`; the JSON API's inputs stay SEARCH_KEYS.
SCIM_SEARCH_KEYS = ("external_id", "filter", "start_index")
ORDERS = ("asc", "desc")


def _last_sign_in(user_id_column):
    """The time of a user's newest login (a correlated subquery on the audit's (target_id, id) index)."""
    return (
        select(audit.c.time)
        .where(audit.c.target_id == user_id_column, audit.c.action == "login")
        .order_by(audit.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


SORTABLE = {
    "username": users.c.username_search,
    "email": users.c.email_search,
    "display_name": users.c.display_name_search,
    "sign_up_time": users.c.sign_up_time,
    "sign_up_status": users.c.sign_up_status,
    "approval_status": users.c.approval_status,
    "is_locked": users.c.is_locked,
    "last_sign_in": _last_sign_in(users.c.user_id),
}


def _ordering(criteria: Mapping, schema: ProfileSchema) -> list:
    """ORDER BY for validated criteria: the chosen column or searchable profile field (empty values last
    either way), then user id."""
    key = criteria.get("order_by", "username")
    f = schema.get(key)
    column = _profile_key(f) if f is not None else SORTABLE[key]
    direction = column.desc() if criteria.get("order", "asc") == "desc" else column.asc()
    return [direction.nulls_last(), users.c.user_id.asc()]


def _row_view(
    row,
    with_last_sign_in: bool,
    schema: ProfileSchema,
    profile: Mapping[str, Any],
    viewer: Caller | None = None,
    stored: tuple[str, ...] = (),
):
    """A result row: every attribute, and the profile fields `viewer` may view (None: every one)."""
    shown = schema.visible(
        profile,
        super_user=viewer is None or viewer.is_super_user,
        is_self=viewer is not None and viewer.user_id == row["user_id"],
        roles=viewer.role_names if viewer is not None else (),
    )
    view = user_view(row, True, shown)
    view[ACTIONS_KEY] = of_row(row, stored)
    if with_last_sign_in:
        view["last_sign_in"] = as_utc(row["last_sign_in"])
    return view


_fts = table(SQLITE_SEARCH_TABLE, column("rowid"), column(SQLITE_SEARCH_TABLE))
_user_rowid: ColumnClause[Any] = literal_column(f"{users.name}.rowid")


def search(ctx: Context, call: Call, criteria) -> dict[str, Any]:
    """Search users (`users.view`), in Zato's result shape."""
    criteria = {} if criteria is None else criteria
    if not isinstance(criteria, Mapping):
        raise SSOError(Kind.malformed, [Code.invalid_input], {"criteria": "must be an object"})
    with reading(ctx.engine) as conn:
        schema = load_schema(conn)
        reject_unknown(criteria, search_keys(schema) | set(SCIM_SEARCH_KEYS), lambda key: "is not a search criterion")
        caller = authenticate(ctx, conn, call)
        require(caller, USERS_VIEW)
        return run_search(conn, criteria, viewer=caller)


def search_keys(schema: ProfileSchema) -> frozenset[str]:
    """Every criterion a search takes: Zato's and ours, the searchable profile fields and `lacking_required`."""
    return frozenset(SEARCH_KEYS) | {f.name for f in schema.active if f.searchable} | {LACKING_REQUIRED}


LACKING_REQUIRED = "lacking_required"  # true: the users who lack a value of some required profile field


def run_search(conn, criteria: Mapping, *, viewer: Caller | None = None) -> dict[str, Any]:
    """The search itself, for a caller already known to hold `users.view` (same shape as `search`)."""
    schema = load_schema(conn)
    dense = _broad_profile_match(conn, criteria, schema)
    count, query, (page, size, paginate, after) = search_statements(
        criteria, conn.dialect.name, schema=schema, dense=dense
    )
    total = conn.execute(_profile_count(criteria, schema, conn.dialect.name) if dense else count).scalar_one()
    total_is_capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    if total_is_capped and conn.dialect.name == "sqlite":
        # A broad match: walking the username index and testing each row finds a page within a few
        # hundred rows, where the trigram index would hand over every match to be sorted first.
        _, query, _ = search_statements(criteria, conn.dialect.name, use_trigrams=False, schema=schema, dense=True)
    rows = conn.execute(query).mappings().all()
    more = paginate and len(rows) > size
    rows = rows[:size] if paginate else rows
    profiles = load_many(conn, schema, [row["user_id"] for row in rows])
    stored: dict[str, list[str]] = {}
    if rows:  # the page's stored required actions in one query (SPEC §19)
        found = select(required_actions.c.user_id, required_actions.c.action).where(
            required_actions.c.user_id.in_([row["user_id"] for row in rows])
        )
        for user_id, action in conn.execute(found):
            stored.setdefault(user_id, []).append(action)
    if not paginate:
        num_pages, cur_page = 1, 1
    elif after is None:
        num_pages, cur_page = max(1, math.ceil(total / size), page + more), page
    else:  # by key: no page number (Zato's fields say only whether there is a next page)
        num_pages, cur_page = max(1, math.ceil(total / size)), None
    return {
        "result": [
            _row_view(
                row,
                criteria.get("with_last_sign_in", False),
                schema,
                profiles.get(row["user_id"], {}),
                viewer,
                tuple(stored.get(row["user_id"], ())),
            )
            for row in rows
        ],
        "total": total,
        "total_is_capped": total_is_capped,
        "num_pages": num_pages,
        "cur_page": cur_page,
        "page_size": size if paginate else len(rows),
        "has_next_page": more,
        "has_prev_page": paginate and (after is not None or page > 1),
        "next_page": page + 1 if more and after is None else None,
        "prev_page": page - 1 if paginate and after is None and page > 1 else None,
        "next_after": rows[-1]["username_search"] if more else None,
    }


PAGING_KEYS = ("paginate", "cur_page", "page_size", "after", "order_by", "order", "with_last_sign_in")


def matching(conn, criteria: Any) -> Any:
    """The WHERE clause of every user `criteria` match, unpaged (a bulk action on a filter, issue 27): the
    same criteria and checks as a search (E008002 naming a bad criterion), paging and sorting left out."""
    if not isinstance(criteria, Mapping):
        raise SSOError(Kind.malformed, [Code.invalid_input], {"criteria": "must be an object"})
    schema = load_schema(conn)
    reject_unknown(criteria, search_keys(schema), lambda key: "is not a search criterion")
    criteria = {key: value for key, value in criteria.items() if key not in PAGING_KEYS}
    where, _ = _search_filter(criteria, conn.dialect.name, schema, dense=True)
    return where


DENSE = 100  # more matches than this: a profile field's filter tests each row in the sort order


def _broad_profile_match(conn, criteria: Mapping, schema: ProfileSchema) -> bool:
    """Whether the profile filters are better tested row by row in the sort order (correlated EXISTS) than
    collected first (IN): not when an exact value's index range holds at most DENSE users (a probe of the
    value index, at most DENSE + 1 entries read); "not set", *contains* and `lacking_required` always."""
    probes = []
    for f in schema.active:
        value = criteria.get(f.name, MISSING_CRITERION) if f.searchable else MISSING_CRITERION
        if value is MISSING_CRITERION:
            continue
        exact = f.type != "choices" and (f.type not in ("text", "email", "url") or criteria.get("is_name_exact", True))
        clean, message = check_field_value(replace(f, required=False, min_length=None, regex=None), value)
        if value is None or not exact or message:
            return value is None or not exact  # (a refused value: the filter raises it anyway)
        probes.append((f, search_key(f, clean)))
    if criteria.get(LACKING_REQUIRED) is True:
        return True
    for f, key in probes:
        narrow = select(literal(1)).where(profile_values.c.field_id == f.id, profile_values.c.search_key == key)
        found = conn.execute(select(func.count()).select_from(narrow.limit(DENSE + 1).subquery())).scalar_one()
        if found <= DENSE:
            return False
    return bool(probes)


MISSING_CRITERION = object()
FILTERS: tuple[str, ...] = ("user_id", "username", "email", *NAME_ATTRIBUTES, "sign_up_status", "approval_status")
FILTERS += ("is_locked", "q", "after", "is_super_user", "is_totp_enabled")


def _profile_count(criteria: Mapping, schema: ProfileSchema, dialect: str):
    """The capped count of a broad match. With one exact profile value and no other filter it is read from
    the value index alone (every value row is a user's: the rows go with their user); otherwise the users
    are counted as any search counts them."""
    exact = [f for f in schema.active if f.searchable and f.name in criteria]
    others = [key for key in FILTERS if key in criteria] + (
        [LACKING_REQUIRED] if criteria.get(LACKING_REQUIRED) else []
    )
    if len(exact) == 1 and not others and criteria[exact[0].name] is not None and exact[0].type != "choices":
        f = exact[0]
        textual = f.type in ("text", "email", "url")
        if not textual or criteria.get("is_name_exact", True):
            clean, _ = check_field_value(replace(f, required=False, min_length=None, regex=None), criteria[f.name])
            narrow = select(literal(1)).where(
                profile_values.c.field_id == f.id, profile_values.c.search_key == search_key(f, clean)
            )
            return select(func.count()).select_from(narrow.limit(COUNT_CAP + 1).subquery())
    count, _, _ = search_statements(criteria, dialect, schema=schema, dense=True)
    return count


def search_statements(
    criteria: Mapping,
    dialect: str,
    *,
    use_trigrams: bool = True,
    schema: ProfileSchema | None = None,
    dense: bool = False,
):
    """(the capped count, the page query, (page, size, paginate, after)) for validated `criteria`.

    `dense`: the profile fields' filters as correlated EXISTS (each row tested in the sort order), for a
    broad match; otherwise as IN (the matches found by the value index, then sorted)."""
    schema = schema or ProfileSchema()
    where, paging = _search_filter(criteria, dialect if use_trigrams else "", schema, dense)
    page, size, paginate, after = paging
    capped = select(literal(1)).select_from(users).where(where).limit(COUNT_CAP + 1).subquery()
    count = select(func.count()).select_from(capped)
    query = select(users).where(where)
    if after is not None:
        query = query.where(users.c.username_search > after)
    query = query.order_by(*_ordering(criteria, schema))
    if criteria.get("with_last_sign_in"):
        query = query.add_columns(SORTABLE["last_sign_in"].label("last_sign_in"))
    if not paginate:
        query = query.limit(UNPAGED_MAX)
    elif "start_index" in criteria:  # SCIM's startIndex: 1-based, any row
        query = query.offset(criteria["start_index"] - 1).limit(size + 1)
    elif after is None:
        query = query.offset((page - 1) * size).limit(size + 1)
    else:
        query = query.limit(size + 1)
    return count, query, paging


def _profile_key(f: ProfileField):
    """A user's search key of profile field `f` (a correlated subquery on the (field, key, user) index)."""
    return (
        select(profile_values.c.search_key)
        .where(profile_values.c.user_id == users.c.user_id, profile_values.c.field_id == f.id)
        .scalar_subquery()
    )


def _profile_clauses(criteria: Mapping, schema: ProfileSchema, errors: FieldErrors, dense: bool = False) -> list:
    """The WHERE clauses of the searchable profile fields in `criteria` (exact; text also *contains* with
    `is_name_exact` false; null: not set) and of `lacking_required`; `dense`: as correlated EXISTS."""
    clauses: list[Any] = []

    def holds(f: ProfileField, condition=None):
        """The user has a value of `f` (meeting `condition`)."""
        if dense:
            query = select(literal(1)).where(
                profile_values.c.user_id == users.c.user_id, profile_values.c.field_id == f.id
            )
            return (query if condition is None else query.where(condition)).exists()
        query = select(profile_values.c.user_id).where(profile_values.c.field_id == f.id)
        return users.c.user_id.in_(query if condition is None else query.where(condition))

    for f in schema.active:
        if not f.searchable or f.name not in criteria:
            continue
        value = criteria[f.name]
        if value is None:
            clauses.append(~holds(f))
            continue
        if f.type == "choices":
            value = [value] if isinstance(value, str) else value
        if f.type in ("text", "email", "url") and not criteria.get("is_name_exact", True):
            if not isinstance(value, str) or text_problem(value):
                errors.add(f.name, _t("must be a string"))
                continue
            clauses.append(holds(f, _like(profile_values.c.search_key, fold(value))))
            continue
        probe = replace(f, required=False, min_length=None, regex=None)  # a search term, not a value to store
        clean, message = check_field_value(probe, value)
        if message:
            errors.add(f.name, message)
            continue
        if f.type == "choices":
            for option in clean:
                clauses.append(holds(f, _like(profile_values.c.search_key, f"|{option}|")))
            continue
        clauses.append(holds(f, profile_values.c.search_key == search_key(f, clean)))
    lacking = criteria.get(LACKING_REQUIRED)
    if lacking is not None and type(lacking) is not bool:
        errors.add(LACKING_REQUIRED, _t("must be true or false"))
    elif lacking:
        lacks = [~holds(f) for f in schema.active if f.required]
        clauses.append(or_(*lacks) if lacks else literal(False))
    return clauses


def _criterion_errors(criteria: Mapping, schema: ProfileSchema | None = None) -> FieldErrors:
    errors = FieldErrors()
    for key in ("user_id", "username", "email", *NAME_ATTRIBUTES, "q", "after", "external_id"):
        if key in criteria and not isinstance(criteria[key], str):
            errors.add(key, _t("must be a string"))
        elif key in criteria and (problem := text_problem(criteria[key])):
            errors.add(key, problem)
    for key in ("sign_up_status", "approval_status"):
        if key in criteria:
            _, message = check_value(ATTRIBUTES[key], criteria[key])
            if message:
                errors.add(key, message)
    for key in (
        "is_locked",
        "is_name_exact",
        "paginate",
        "is_super_user",
        "is_totp_enabled",
        "with_last_sign_in",
        "deletion_scheduled",
    ):
        if key in criteria and type(criteria[key]) is not bool:
            errors.add(key, _t("must be true or false"))
    for key in ("cur_page", "page_size", "start_index"):
        if key in criteria and (type(criteria[key]) is not int or criteria[key] < 1):
            errors.add(key, _t("must be a whole number of at least 1"))
    for key in ("cur_page", "start_index"):
        if type(criteria.get(key)) is int and criteria[key] > CUR_PAGE_MAX:
            errors.add(key, _t("must be at most %(limit)s", limit=CUR_PAGE_MAX))
    if "after" in criteria and "cur_page" in criteria:
        errors.add("after", _t("cannot be combined with cur_page (after pages by key)"))
    sortable = [*SORTABLE, *(f.name for f in (schema or ProfileSchema()).active if f.searchable)]
    if "order_by" in criteria and (not isinstance(criteria["order_by"], str) or criteria["order_by"] not in sortable):
        errors.add("order_by", _t("must be one of: %(choices)s", choices=", ".join(sortable)))
    if "order" in criteria and (not isinstance(criteria["order"], str) or criteria["order"] not in ORDERS):
        errors.add("order", _t("must be asc or desc"))
    if "after" in criteria and (criteria.get("order_by", "username") != "username" or criteria.get("order") == "desc"):
        errors.add("after", _t("pages only the username order (ascending)"))
    if "name_op" in criteria and criteria["name_op"] not in ("and", "or"):
        errors.add("name_op", _t("must be and or or"))
    if "start_index" in criteria and ("cur_page" in criteria or "after" in criteria):
        errors.add("start_index", _t("cannot be combined with cur_page or after"))
    if "filter" in criteria:
        problem = filter_problem(criteria["filter"])
        if problem:
            errors.add("filter", problem)
    return errors


# --- the structured filter (SCIM's, SPEC §21): a tree of tuples, compiled to clauses on indexed columns ---
#   ("and" | "or", [node, ...]), ("not", node), ("pr", attribute), (operator, attribute, value)
FILTER_TEXT = ("username", "email", *NAME_ATTRIBUTES)  # compared case-insensitively, on their folded columns
FILTER_EXACT = ("user_id", "external_id")  # compared as they are
FILTER_BOOL = ("is_locked",)
FILTER_TIME = ("last_modified", "sign_up_time")
FILTER_OPERATORS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")
FILTER_NODES_MAX = 64  # a filter of more terms is refused (SCIM: tooMany)


class FilterTooLarge(ValueError):
    """A filter with more than FILTER_NODES_MAX terms."""


def filter_problem(node: Any) -> str | None:
    """Why a filter tree cannot be run, or None."""
    try:
        _filter_clause(node, "", [0])
    except FilterTooLarge:
        return f"has more than {FILTER_NODES_MAX} terms"
    except ValueError as e:
        return str(e)
    return None


def _filter_clause(node: Any, dialect: str, count: list[int]):
    count[0] += 1
    if count[0] > FILTER_NODES_MAX:
        raise FilterTooLarge()
    if not isinstance(node, tuple) or not node:
        raise ValueError("must be a filter expression")
    op = node[0]
    if op in ("and", "or") and len(node) == 2 and isinstance(node[1], (list, tuple)) and node[1]:
        terms = [_filter_clause(term, dialect, count) for term in node[1]]
        return and_(*terms) if op == "and" else or_(*terms)
    if op == "not" and len(node) == 2:
        return not_(_filter_clause(node[1], dialect, count))
    if op == "pr" and len(node) == 2:
        name = _filter_attribute(node[1])
        col = users.c[name]
        return and_(col.is_not(None), col != "") if name in FILTER_TEXT + FILTER_EXACT else col.is_not(None)
    if op in FILTER_OPERATORS and len(node) == 3:
        return _comparison(op, _filter_attribute(node[1]), node[2], dialect)
    raise ValueError(f"has an unknown operator {str(op)[:20]!r}")


def _filter_attribute(name: Any) -> str:
    if name not in FILTER_TEXT + FILTER_EXACT + FILTER_BOOL + FILTER_TIME:
        raise ValueError(f"cannot filter on {str(name)[:40]!r}")
    return name


def _comparison(op: str, name: str, value: Any, dialect: str):
    when: Any
    if name in FILTER_BOOL:
        if type(value) is not bool or op not in ("eq", "ne"):
            raise ValueError(f"{name} compares only eq or ne with true or false")
        return users.c[name] == value if op == "eq" else users.c[name] != value
    if name in FILTER_TIME:
        if op in ("co", "sw", "ew"):
            raise ValueError(f"{name} is a date: use eq, ne, gt, ge, lt or le")
        try:
            when = parse_datetime(value)
        except ValueError as e:
            raise ValueError(f"{name} {e}") from None
        col = users.c[name]
    else:
        if not isinstance(value, str) or text_problem(value):
            raise ValueError(f"{name} compares with a string")
        col = users.c[search_column(name)] if name in FILTER_TEXT else users.c[name]
        when = fold(value) if name in FILTER_TEXT else value
    if op == "co":
        return _contains((search_column(name),), value, dialect) if name in FILTER_TEXT else _like(col, value)
    if op in ("sw", "ew"):
        escaped = str(when).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return col.like(f"{escaped}%" if op == "sw" else f"%{escaped}", escape="\\")
    if op == "ne":
        return or_(col != when, col.is_(None))
    return {"eq": col.__eq__, "gt": col.__gt__, "ge": col.__ge__, "lt": col.__lt__, "le": col.__le__}[op](when)


def _like(column, folded: str):
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def _contains(names: tuple[str, ...], text: str, dialect: str):
    """Some of the search columns `names` contains `text` (case-insensitively), through the trigram index.

    PostgreSQL's planner uses the pg_trgm GIN indexes for LIKE '%...%' by itself. On SQLite, the
    FTS5 trigram table narrows to candidate rows first (text of at least TRIGRAM characters), and
    LIKE re-checks them, so the answer is the same with or without the index."""
    folded = fold(text)
    like = or_(*(_like(users.c[name], folded) for name in names))
    if dialect != "sqlite" or len(folded) < TRIGRAM:
        return like
    phrase = '"' + folded.replace('"', '""') + '"'
    query = phrase if len(names) == len(SEARCH_COLUMN_NAMES) else "{" + " ".join(names) + "} : " + phrase
    candidates = select(_fts.c.rowid).where(_fts.c[SQLITE_SEARCH_TABLE].op("MATCH")(query))
    return and_(_user_rowid.in_(candidates), like)


SEARCH_COLUMN_NAMES = tuple(search_column(key) for key in ("username", "email", *NAME_ATTRIBUTES))


def _search_filter(criteria: Mapping, dialect: str, schema: ProfileSchema, dense: bool = False):
    """The WHERE clause and (page, size, paginate, after) for validated search criteria."""
    errors = _criterion_errors(criteria, schema)
    clauses = _profile_clauses(criteria, schema, errors, dense)
    errors.raise_if_any(Kind.invalid)
    if "user_id" in criteria:
        clauses.append(users.c.user_id == criteria["user_id"])
    for key in ("username", "email"):
        if key in criteria:
            clauses.append(users.c[search_column(key)] == fold(criteria[key]))
    for key in ("sign_up_status", "approval_status", "is_locked", "is_super_user", "is_totp_enabled"):
        if key in criteria:
            clauses.append(users.c[key] == criteria[key])
    if "deletion_scheduled" in criteria:  # SPEC §20: accounts whose owners asked for their deletion
        scheduled = users.c.deletion_time.is_not(None)
        clauses.append(scheduled if criteria["deletion_scheduled"] else ~scheduled)
    exact = criteria.get("is_name_exact", True)
    names = [
        (users.c[search_column(key)] == fold(criteria[key]))
        if exact
        else _contains((search_column(key),), criteria[key], dialect)
        for key in NAME_ATTRIBUTES
        if key in criteria
    ]
    if names:
        clauses.append(or_(*names) if criteria.get("name_op", "and") == "or" else and_(*names))
    if criteria.get("q"):
        clauses.append(_contains(SEARCH_COLUMN_NAMES, criteria["q"], dialect))
    if "external_id" in criteria:
        clauses.append(users.c.external_id == criteria["external_id"])
    if "filter" in criteria:
        clauses.append(_filter_clause(criteria["filter"], dialect, [0]))
    page = criteria.get("cur_page", 1)
    size = min(criteria.get("page_size", PAGE_SIZE_DEFAULT), PAGE_SIZE_MAX)
    after = fold(criteria["after"]) if "after" in criteria else None
    return (and_(true(), *clauses) if clauses else true()), (page, size, criteria.get("paginate", True), after)
