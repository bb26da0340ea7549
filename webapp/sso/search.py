"""Searching users (SPEC §6): Zato's criteria and result shape, plus `q` and `is_locked`."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, func, or_, select, true

from ..db import reading
from ..models import users
from .attributes import ATTRIBUTES, NAME_ATTRIBUTES, check_value, fold, search_column, text_problem
from .authn import authenticate
from .context import Context
from .errors import Code, FieldErrors, Kind, SSOError, super_user_required
from .presentation import user_view
from .store import reject_unknown

PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, UNPAGED_MAX = 50, 100, 1000
CUR_PAGE_MAX = 2**31 - 1  # keeps OFFSET inside a 64-bit integer
SEARCH_KEYS = ("user_id", "username", "email", *NAME_ATTRIBUTES, "sign_up_status", "approval_status",
               "is_locked", "q", "is_name_exact", "name_op", "paginate", "cur_page", "page_size")


def search(ctx: Context, cid, criteria, current_ust, current_app, remote_addr) -> dict[str, Any]:
    """Search users (super-users only), in Zato's result shape."""
    criteria = {} if criteria is None else criteria
    if not isinstance(criteria, Mapping):
        raise SSOError(Kind.malformed, [Code.invalid_input], {"criteria": "must be an object"})
    reject_unknown(criteria, SEARCH_KEYS, lambda key: "is not a search criterion")
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, current_ust, current_app)
        if not caller.is_super_user:
            raise super_user_required()
        where, paging = _search_filter(criteria)
        total = conn.execute(select(func.count()).select_from(users).where(where)).scalar_one()
        page, size, paginate = paging
        query = select(users).where(where).order_by(users.c.username_search)
        query = query.offset((page - 1) * size).limit(size) if paginate else query.limit(UNPAGED_MAX)
        rows = conn.execute(query).mappings().all()
    num_pages = max(1, math.ceil(total / size)) if paginate else 1
    return {
        "result": [user_view(row, True) for row in rows],
        "total": total, "num_pages": num_pages, "cur_page": page if paginate else 1,
        "page_size": size if paginate else len(rows),
        "has_next_page": paginate and page < num_pages, "has_prev_page": paginate and page > 1,
        "next_page": page + 1 if paginate and page < num_pages else None,
        "prev_page": page - 1 if paginate and page > 1 else None,
    }


def _criterion_errors(criteria: Mapping) -> FieldErrors:
    errors = FieldErrors()
    for key in ("user_id", "username", "email", *NAME_ATTRIBUTES, "q"):
        if key in criteria and not isinstance(criteria[key], str):
            errors.add(key, "must be a string")
        elif key in criteria and text_problem(criteria[key]):
            errors.add(key, text_problem(criteria[key]))
    for key in ("sign_up_status", "approval_status"):
        if key in criteria:
            _, message = check_value(ATTRIBUTES[key], criteria[key])
            if message:
                errors.add(key, message)
    for key in ("is_locked", "is_name_exact", "paginate"):
        if key in criteria and type(criteria[key]) is not bool:
            errors.add(key, "must be true or false")
    for key in ("cur_page", "page_size"):
        if key in criteria and (type(criteria[key]) is not int or criteria[key] < 1):
            errors.add(key, "must be a whole number of at least 1")
    if type(criteria.get("cur_page")) is int and criteria["cur_page"] > CUR_PAGE_MAX:
        errors.add("cur_page", f"must be at most {CUR_PAGE_MAX}")
    if "name_op" in criteria and criteria["name_op"] not in ("and", "or"):
        errors.add("name_op", "must be and or or")
    return errors


def _contains(column, text: str):
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def _search_filter(criteria: Mapping):
    """The WHERE clause and (page, size, paginate) for validated search criteria."""
    errors = _criterion_errors(criteria)
    errors.raise_if_any(Kind.invalid)
    clauses = []
    if "user_id" in criteria:
        clauses.append(users.c.user_id == criteria["user_id"])
    for key in ("username", "email"):
        if key in criteria:
            clauses.append(users.c[search_column(key)] == fold(criteria[key]))
    for key in ("sign_up_status", "approval_status", "is_locked"):
        if key in criteria:
            clauses.append(users.c[key] == criteria[key])
    exact = criteria.get("is_name_exact", True)
    names = [(users.c[search_column(key)] == fold(criteria[key])) if exact
             else _contains(users.c[search_column(key)], criteria[key])
             for key in NAME_ATTRIBUTES if key in criteria]
    if names:
        clauses.append(or_(*names) if criteria.get("name_op", "and") == "or" else and_(*names))
    if criteria.get("q"):
        clauses.append(or_(*(_contains(users.c[search_column(key)], criteria["q"])
                             for key in ("username", "email", *NAME_ATTRIBUTES))))
    page = criteria.get("cur_page", 1)
    size = min(criteria.get("page_size", PAGE_SIZE_DEFAULT), PAGE_SIZE_MAX)
    return (and_(true(), *clauses) if clauses else true()), (page, size, criteria.get("paginate", True))
