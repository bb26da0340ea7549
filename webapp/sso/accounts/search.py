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

from sqlalchemy import ColumnClause, and_, column, func, literal, literal_column, not_, or_, select, table, text, true

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
# The console's: `user_ids`, a list of at most USER_IDS_MAX ids (a schema change's dry run links to the
# users whose values it would break, SPEC §16); not a JSON API input either.
CONSOLE_SEARCH_KEYS = ("user_ids",)
USER_IDS_MAX = 100
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
        reject_unknown(
            criteria,
            search_keys(schema) | set(SCIM_SEARCH_KEYS) | set(CONSOLE_SEARCH_KEYS),
            lambda key: "is not a search criterion",
        )
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
    sort_field = schema.get(criteria.get("order_by", ""))
    if sort_field is not None and sort_field.searchable and "start_index" not in criteria:
        rows = _sorted_by_profile_field(conn, criteria, schema, dense, sort_field)
    else:
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


def _sorted_by_profile_field(conn, criteria: Mapping, schema: ProfileSchema, dense: bool, f: ProfileField) -> list:
    """A page sorted by profile field `f`, read in the order of the value index (field, key, user): first the
    users who hold a value (index order, ties by user id in the same direction), then those who do not (by
    user id), so neither part sorts every user. The second part is read only once the first runs out."""
    where, (page, size, paginate, _) = _search_filter(
        criteria, conn.dialect.name, schema, dense, hinted=conn.dialect.name == "sqlite"
    )
    offset, limit = ((page - 1) * size, size + 1) if paginate else (0, UNPAGED_MAX)
    extra = [SORTABLE["last_sign_in"].label("last_sign_in")] if criteria.get("with_last_sign_in") else []
    key = profile_values.alias("sort_key")
    joined = [key.c.user_id == users.c.user_id, key.c.field_id == f.id]
    exact = _exact_key(f, criteria)
    if exact is not None:  # filtered to one value of the sort field: the index range of that value alone
        joined.append(key.c.search_key == exact)
    holding = select(users, *extra).join(key, and_(*joined)).where(where)
    desc = criteria.get("order", "asc") == "desc"
    order = [key.c.search_key.desc(), key.c.user_id.desc()] if desc else [key.c.search_key, key.c.user_id]
    rows = list(conn.execute(holding.order_by(*order).offset(offset).limit(limit)).mappings())
    if len(rows) == limit or criteria.get(f.name, None) is not None:  # full, or every match holds a value
        return rows
    if rows:
        skip = 0
    else:  # the page starts among those without a value: skip as many of them as the page's offset passes
        held = conn.execute(select(func.count()).select_from(holding.limit(offset).subquery())).scalar_one()
        skip = offset - held
    lacking = select(literal(1)).where(profile_values.c.user_id == users.c.user_id, profile_values.c.field_id == f.id)
    rest = select(users, *extra).where(where, ~lacking.exists()).order_by(users.c.user_id)
    return rows + list(conn.execute(rest.offset(skip).limit(limit - len(rows))).mappings())


def _exact_key(f: ProfileField, criteria: Mapping) -> str | None:
    """The search key an exact criterion on `f` compares with, or None (no criterion, not set, *contains*, a
    set of options, or a value the filter refuses)."""
    value = criteria.get(f.name)
    textual = f.type in ("text", "email", "url")
    if value is None or f.type == "choices" or (textual and not criteria.get("is_name_exact", True)):
        return None
    clean, message = check_field_value(replace(f, required=False, min_length=None, regex=None), value)
    return None if message else search_key(f, clean)


def match_query(conn, criteria: Mapping, schema: ProfileSchema):
    """The page query of validated `criteria`, the profile filters planned as a search plans them."""
    dense = _broad_profile_match(conn, criteria, schema)
    _, query, _ = search_statements(criteria, conn.dialect.name, schema=schema, dense=dense)
    return query


# An exact profile value held by at most this many users: the page is those users, found by the value index and
# sorted (IN); more: the sort order is walked and each row tested (EXISTS), about 2 µs a row on SQLite at 1M users
# against about 3 µs a match for IN, so the two cost the same near sqrt(1M × 51 × 2 / 3) ≈ 6,000 matches.
IN_MAX = 5_000


def _broad_profile_match(conn, criteria: Mapping, schema: ProfileSchema) -> bool:
    """Whether the profile filters are better tested row by row in the sort order (correlated EXISTS) than
    collected first (IN): not when an exact value's index range holds at most IN_MAX users (a probe of the
    value index alone, at most IN_MAX + 1 entries read); "not set", *contains* and `lacking_required` always."""
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
        found = conn.execute(select(func.count()).select_from(narrow.limit(IN_MAX + 1).subquery())).scalar_one()
        if found <= IN_MAX:
            return False
    return bool(probes)


MISSING_CRITERION = object()
FILTERS: tuple[str, ...] = ("user_id", "username", "email", *NAME_ATTRIBUTES, "sign_up_status", "approval_status")
FILTERS += ("is_locked", "q", "after", "is_super_user", "is_totp_enabled", "user_ids")


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
    where, paging = _search_filter(criteria, dialect if use_trigrams else "", schema, dense, hinted=dialect == "sqlite")
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


# SQLite: a row's test for an exact value probes the (field, key, user) index, which holds all three (its planner
# would take the primary key's (user, field) and read each value row for its key: six times slower at 1M users).
_HINTED_VALUES = text("sso_profile_value INDEXED BY ix_sso_profile_value_search")
_HINTED: dict[str, ColumnClause[Any]] = {
    name: literal_column(f"sso_profile_value.{name}") for name in ("user_id", "field_id", "search_key")
}


def _profile_clauses(
    criteria: Mapping, schema: ProfileSchema, errors: FieldErrors, dense: bool = False, hinted: bool = False
) -> list:
    """The WHERE clauses of the searchable profile fields in `criteria` (exact; text also *contains* with
    `is_name_exact` false; null: not set) and of `lacking_required`; `dense`: as correlated EXISTS (`hinted`:
    SQLite, an exact value's through the (field, key, user) index)."""
    clauses: list[Any] = []

    def holds_exactly(f: ProfileField, key: str | None):
        """The user's value of `f` has the search key `key`."""
        if not (dense and hinted):
            return holds(f, profile_values.c.search_key == key)
        probe = (
            select(literal(1))
            .select_from(_HINTED_VALUES)
            .where(_HINTED["user_id"] == users.c.user_id, _HINTED["field_id"] == f.id, _HINTED["search_key"] == key)
        )
        return probe.exists()

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
        clauses.append(holds_exactly(f, search_key(f, clean)))
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
    ids = criteria.get("user_ids", [])
    if not isinstance(ids, list) or len(ids) > USER_IDS_MAX or not all(isinstance(i, str) and i for i in ids):
        errors.add("user_ids", _t("must be a list of at most %(num)d user ids", num=USER_IDS_MAX))
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
        problem = filter_problem(criteria["filter"], schema)
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
PROFILE_FILTER = "profile:"  # "profile:NAME": a searchable profile field, compared on its search key (indexed)


class FilterTooLarge(ValueError):
    """A filter with more than FILTER_NODES_MAX terms."""


def filter_problem(node: Any, schema: ProfileSchema | None = None) -> str | None:
    """Why a filter tree cannot be run, or None."""
    try:
        _filter_clause(node, "", [0], schema or ProfileSchema())
    except FilterTooLarge:
        return f"has more than {FILTER_NODES_MAX} terms"
    except ValueError as e:
        return str(e)
    return None


def _filter_clause(node: Any, dialect: str, count: list[int], schema: ProfileSchema):
    count[0] += 1
    if count[0] > FILTER_NODES_MAX:
        raise FilterTooLarge()
    if not isinstance(node, tuple) or not node:
        raise ValueError("must be a filter expression")
    op = node[0]
    if op in ("and", "or") and len(node) == 2 and isinstance(node[1], (list, tuple)) and node[1]:
        terms = [_filter_clause(term, dialect, count, schema) for term in node[1]]
        return and_(*terms) if op == "and" else or_(*terms)
    if op == "not" and len(node) == 2:
        return not_(_filter_clause(node[1], dialect, count, schema))
    if op == "pr" and len(node) == 2:
        f = _filter_field(node[1], schema)
        if f is not None:
            return _has_value(f)
        name = _filter_attribute(node[1])
        col = users.c[name]
        return and_(col.is_not(None), col != "") if name in FILTER_TEXT + FILTER_EXACT else col.is_not(None)
    if op in FILTER_OPERATORS and len(node) == 3:
        f = _filter_field(node[1], schema)
        if f is not None:
            return _profile_comparison(op, f, node[2])
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


def _filter_field(name: Any, schema: ProfileSchema) -> ProfileField | None:
    """The searchable profile field a filter's "profile:NAME" names; None for a built-in attribute."""
    if not isinstance(name, str) or not name.startswith(PROFILE_FILTER):
        return None
    f = schema.get(name[len(PROFILE_FILTER) :])
    if f is None or not f.searchable:
        raise ValueError(f"cannot filter on {name[len(PROFILE_FILTER) :][:40]!r} (not a searchable profile field)")
    return f


def _has_value(f: ProfileField, condition: Any = None):
    """The user holds a value of `f` (meeting `condition`): IN on the (field, key, user) index."""
    query = select(profile_values.c.user_id).where(profile_values.c.field_id == f.id)
    return users.c.user_id.in_(query if condition is None else query.where(condition))


def _profile_comparison(op: str, f: ProfileField, value: Any):
    """A comparison of a profile field's value, on its search key: `eq`/`ne` of the value as the field
    reads it (text case-insensitively), `co`/`sw`/`ew` on text, `gt`/`ge`/`lt`/`le` on integers, dates and
    text (the search keys sort as the values do)."""
    key_column = profile_values.c.search_key
    if op in ("co", "sw", "ew"):
        if f.type not in ("text", "email", "url", "phone", "choice"):
            raise ValueError(f"{f.name} is not text: use eq, ne, gt, ge, lt or le")
        if not isinstance(value, str) or text_problem(value):
            raise ValueError(f"{f.name} compares with a string")
        folded = value if f.type == "phone" else fold(value)
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[op]
        return _has_value(f, key_column.like(pattern, escape="\\"))
    if f.type == "choices":
        if op not in ("eq", "ne") or not isinstance(value, str):
            raise ValueError(f"{f.name} holds options: compare one with eq or ne")
        held = _has_value(f, _like(key_column, f"|{value}|"))
        return held if op == "eq" else not_(held)
    if f.type == "bool" and op not in ("eq", "ne"):
        raise ValueError(f"{f.name} compares only eq or ne with true or false")
    probe = replace(f, required=False, min_length=None, max_length=None, regex=None, minimum=None, maximum=None)
    clean, message = check_field_value(probe, value)
    if message or clean is None:
        raise ValueError(f"{f.name} {message or 'compares with a value'}")
    key = search_key(f, clean)
    if op == "ne":
        return not_(_has_value(f, key_column == key))
    compare = {"eq": key_column.__eq__, "gt": key_column.__gt__, "ge": key_column.__ge__}
    compare |= {"lt": key_column.__lt__, "le": key_column.__le__}
    return _has_value(f, compare[op](key))


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


def _search_filter(criteria: Mapping, dialect: str, schema: ProfileSchema, dense: bool = False, hinted: bool = False):
    """The WHERE clause and (page, size, paginate, after) for validated search criteria."""
    errors = _criterion_errors(criteria, schema)
    clauses = _profile_clauses(criteria, schema, errors, dense, hinted)
    errors.raise_if_any(Kind.invalid)
    if "user_id" in criteria:
        clauses.append(users.c.user_id == criteria["user_id"])
    if "user_ids" in criteria:
        clauses.append(users.c.user_id.in_(criteria["user_ids"]))
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
        clauses.append(_filter_clause(criteria["filter"], dialect, [0], schema))
    page = criteria.get("cur_page", 1)
    size = min(criteria.get("page_size", PAGE_SIZE_DEFAULT), PAGE_SIZE_MAX)
    after = fold(criteria["after"]) if "after" in criteria else None
    return (and_(true(), *clauses) if clauses else true()), (page, size, criteria.get("paginate", True), after)
