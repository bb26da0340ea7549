"""Every SCIM failure in RFC 7644 §3.12's shape (`schemas`, `status`, `scimType`, `detail`): the service's
errors mapped once, the library's parsing errors (a pydantic ValidationError), and HTTP errors (unknown path,
wrong method). No import of `scim2-models` here: the 404s and 405s answer without loading it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response, g

from ..sso.kernel.errors import Code, Kind, SSOError

MEDIA_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

STATUS = {
    Kind.malformed: 400,
    Kind.missing: 400,
    Kind.invalid: 400,
    Kind.unauthenticated: 401,
    Kind.forbidden: 403,
    Kind.not_found: 404,
    Kind.conflict: 409,
    Kind.precondition: 412,
    Kind.throttled: 429,
    Kind.rate_limited: 429,
    Kind.unavailable: 503,
}

# Our attribute names as a SCIM client knows them, for the detail of a refused value.
SCIM_NAMES = {
    "username": "userName",
    "email": "emails",
    "display_name": "displayName",
    "first_name": "name.givenName",
    "middle_name": "name.middleName",
    "last_name": "name.familyName",
    "external_id": "externalId",
    "is_locked": "active",
    "filter": "filter",
    "start_index": "startIndex",
    "page_size": "count",
}


class ScimProblem(Exception):
    """A request the face refuses before any service call (a bad filter, path, header or body)."""

    def __init__(self, status: int, scim_type: str | None, detail: str):
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type
        self.detail = detail


def scim_json(body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(status: int, scim_type: str | None, detail: str, headers: Mapping[str, str] | None = None):
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    body["detail"] = detail
    return scim_json(body, status, headers)


def from_problem(problem: ScimProblem) -> Response:
    return error_response(problem.status, problem.scim_type, problem.detail)


def from_sso_error(error: SSOError) -> Response:
    """The service's refusal as SCIM says it: a taken userName is `uniqueness`, a refused value `invalidValue`."""
    status = STATUS.get(error.kind, 400)
    names = {**SCIM_NAMES, **getattr(g, "scim_names", {})}  # a profile field by its SCIM path (handlers._fields)
    detail = "; ".join(f"{names.get(field, field)}: {message}" for field, message in error.errors.items())
    if error.kind == Kind.unauthenticated:
        detail = "the bearer token is unknown or revoked"
    detail = detail or ", ".join(error.sub_status) or error.kind
    scim_type = None
    if Code.username_exists in error.sub_status:
        status, scim_type = 409, "uniqueness"
    elif status == 400 and "filter" in error.errors:  # a value the filter compares cannot be compared
        scim_type = "invalidFilter"
    elif status == 400:
        scim_type = "invalidValue"
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return error_response(status, scim_type, detail, headers)


def from_validation_error(error: Any) -> Response:
    """A body the SCIM models refused: the library names the scimType (`scim_invalidPath`…), else invalidValue."""
    problems = error.errors()
    scim_type = "invalidValue"
    for problem in problems:
        kind = str(problem.get("type", ""))
        if kind.startswith("scim_"):
            scim_type = kind[len("scim_") :]
            break
    detail = "; ".join(
        f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg', '')}".lstrip(": ")
        for problem in problems[:5]
    )
    return error_response(400, scim_type, detail or "the request body is not a valid SCIM message")
