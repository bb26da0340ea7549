"""A SCIM filter (RFC 7644 §3.4.2.2), parsed by `scim2-models`, as the service's structured search filter
(`accounts/search.py`: a tree of tuples on indexed columns); never SQL text.

Attribute names are matched case-insensitively, with or without the core schema's URN. `active` is our
`is_locked` turned over; `emails[type eq "work" and value co "x"]` reads the one address we keep."""

from __future__ import annotations

from typing import Any

from scim2_models import InvalidFilterException, ScimFilter
from scim2_models.path import Comparison, FilterNode, LogicalExpr, LogicalOperator, Not, Present, ValuePath

from ..sso.accounts.search import FILTER_NODES_MAX, PROFILE_FILTER
from .errors import ScimProblem
from .extensions import EXTENSIONS, ScimFields

FILTER_LENGTH_MAX = 4096
FILTER_DEPTH_MAX = 16  # nested expressions (not, and/or groups, value paths)
CORE = "urn:ietf:params:scim:schemas:core:2.0:user"

# (attribute, sub-attribute), folded → our filterable column
ATTRIBUTES: dict[tuple[str, str | None], str] = {
    ("id", None): "user_id",
    ("username", None): "username",
    ("displayname", None): "display_name",
    ("name", "givenname"): "first_name",
    ("name", "middlename"): "middle_name",
    ("name", "familyname"): "last_name",
    ("emails", None): "email",
    ("emails", "value"): "email",
    ("externalid", None): "external_id",
    ("active", None): "is_locked",
    ("meta", "lastmodified"): "last_modified",
    ("meta", "created"): "sign_up_time",
}


def invalid(detail: str) -> ScimProblem:
    return ScimProblem(400, "invalidFilter", detail)


def too_many(detail: str) -> ScimProblem:
    return ScimProblem(400, "tooMany", detail)


def search_filter(expression: str, fields: ScimFields | None = None) -> tuple:
    """The service's filter tree for a SCIM filter; ScimProblem (invalidFilter, tooMany) when it cannot be.
    `fields`: the profile fields mapped to SCIM attributes (a searchable one is filterable)."""
    if len(expression) > FILTER_LENGTH_MAX:
        raise too_many(f"the filter is longer than {FILTER_LENGTH_MAX} characters")
    try:
        ast = ScimFilter(expression).ast
    except InvalidFilterException as e:
        detail = str(e.detail)
        raise (too_many if "nests more than" in detail else invalid)(detail) from None
    return _node(ast, None, [0], fields or ScimFields(()))


def _column(attr: str, sub_attr: str | None, uri: str | None, within: str | None, fields: ScimFields) -> str:
    extension = next((urn for urn in EXTENSIONS if uri is not None and uri.lower() == urn.lower()), None)
    if extension is not None and within is None and sub_attr is None:
        item = fields.by_path.get((extension, attr.lower()))
        if item is None or not item.field.searchable:
            raise invalid(f"cannot filter on {extension}:{attr} (no searchable profile field maps it)")
        return PROFILE_FILTER + item.field.name
    if uri is not None and uri.lower() != CORE:
        raise invalid(f"cannot filter on {uri}:{attr}")
    key = (within, attr.lower()) if within else (attr.lower(), sub_attr.lower() if sub_attr else None)
    if key not in ATTRIBUTES:
        shown = ".".join(part for part in (within, attr, sub_attr) if part)
        raise invalid(f"cannot filter on {shown}")
    return ATTRIBUTES[key]


def _node(node: FilterNode, within: str | None, count: list[int], fields: ScimFields, depth: int = 1) -> tuple:
    count[0] += 1
    if count[0] > FILTER_NODES_MAX:
        raise too_many(f"the filter has more than {FILTER_NODES_MAX} terms")
    if depth > FILTER_DEPTH_MAX:
        raise too_many(f"the filter nests more than {FILTER_DEPTH_MAX} expressions")
    if isinstance(node, LogicalExpr):
        op = "and" if node.op == LogicalOperator.and_ else "or"
        return (op, [_node(term, within, count, fields, depth + 1) for term in node.terms])
    if isinstance(node, Not):
        return ("not", _node(node.expr, within, count, fields, depth + 1))
    if isinstance(node, ValuePath):
        if node.attr_path.attr.lower() != "emails" or node.attr_path.sub_attr or within:
            raise invalid(f"cannot filter on {node.attr_path}[...]")
        return ("and", [("pr", "email"), _node(node.val_filter, "emails", count, fields, depth + 1)])
    if isinstance(node, Present):
        path = node.attr_path
        if within == "emails" and path.attr.lower() in ("type", "primary"):
            return ("pr", "email")
        return ("pr", _column(path.attr, path.sub_attr, path.uri, within, fields))
    if isinstance(node, Comparison):
        path = node.attr_path
        op, value = node.op.value, node.value
        if within == "emails" and path.attr.lower() in ("type", "primary"):
            return _email_type(path.attr.lower(), op, value)
        column = _column(path.attr, path.sub_attr, path.uri, within, fields)
        if column == "is_locked":
            value = _boolean(value)
            if op not in ("eq", "ne"):
                raise invalid("active compares only with eq or ne")
            return ("ne" if op == "eq" else "eq", "is_locked", value)  # active = not locked
        return (op, column, value)
    raise invalid("unsupported filter expression")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid("active compares with true or false")


def _email_type(name: str, op: str, value: Any) -> tuple:
    """Our one address is the `work` one and primary: `type eq "work"` / `primary eq true` hold when it is set."""
    holds = (
        isinstance(value, str) and value.lower() == "work"
        if name == "type"
        else value is True or (isinstance(value, str) and value.lower() == "true")
    )
    if op not in ("eq", "ne"):
        raise invalid(f"emails.{name} compares only with eq or ne")
    holds = holds if op == "eq" else not holds
    return ("pr", "email") if holds else ("not", ("pr", "email"))
