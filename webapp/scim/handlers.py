"""What each `/scim/v2/` route does (views.py routes to them): discovery, and Users (GET one, GET a filtered
page, POST, PUT, PATCH, DELETE). Loaded by the first SCIM request, with `scim2-models` (about 29 MiB a worker
that no other face needs).

Each parses the request with `scim2-models`, builds the request's `Call` (channel `scim`, the client's
bearer token), makes one service call and answers SCIM JSON; every failure goes through `errors.py`."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Patch,
    PatchOp,
    Required,
    ResourceType,
    SCIMException,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
)

from ..sso.accounts.search import PAGE_SIZE_MAX
from ..sso.kernel.call import Call
from ..sso.kernel.caller import SCIM_ACTOR
from ..sso.kernel.errors import SSOError
from ..sso.kernel.presentation import UserData
from ..sso.service import Service
from . import errors
from .errors import ScimProblem, scim_json
from .extensions import SCIM_ENTERPRISE, SCIM_PROFILE, ScimFields, extension_of, extension_schema
from .filters import search_filter
from .patching import PATCH_OP, changes_of, envelope
from .resources import ScimUser, differences, etag, response_json, to_data, to_scim

SORTABLE = {"username": "username", "displayname": "display_name", "emails": "email", "emails.value": "email"}
SORTABLE |= {"meta.created": "sign_up_time"}
PREFIX = "/scim/v2"


def run(handler: Callable[..., Response], /, **arguments: Any) -> Response:
    """Call one handler, answering every failure in SCIM's error shape."""
    try:
        return handler(**arguments)
    except SSOError as error:
        return errors.from_sso_error(error)
    except ScimProblem as problem:
        return errors.from_problem(problem)
    except ValidationError as error:
        return errors.from_validation_error(error)
    except SCIMException as error:
        body = error.to_error()
        return errors.error_response(int(body.status or 400), body.scim_type, str(body.detail or error))


def _base() -> str:
    return request.url_root.rstrip("/") + PREFIX


def _service() -> Service:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ScimProblem(401, None, "a SCIM client's bearer token is required (Authorization: Bearer …)")
    call = Call(
        cid=uuid.uuid4().hex,
        current_app="scim",
        remote_addr=request.remote_addr,
        channel="scim",
        user_agent=request.headers.get("User-Agent"),
        bearer=token.strip(),
    )
    return current_app.extensions["sso"].serve(call)


def _body() -> Any:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ScimProblem(400, "invalidSyntax", "the request body must be a JSON object")
    return body


def _user_id(user_id: str) -> str:
    if user_id.startswith(SCIM_ACTOR):  # a SCIM client's own actor id names no user
        raise ScimProblem(404, None, f"no User {user_id}")
    return user_id


def _if_match() -> int | None:
    """The version If-Match names (W/"3" or "3"); None for none or `*`; 412 for one that is no version of ours."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    found = re.fullmatch(r'\s*(?:W/)?"(\d{1,9})"\s*', header)
    if not found:
        raise ScimProblem(412, None, "If-Match names no version of this resource")
    return int(found.group(1))


def _fields(definitions: Any = None) -> ScimFields:
    """The live profile fields with a `scim_path` (`definitions`: as an update read them; else read now).
    Their SCIM paths name them in an error's detail."""
    if definitions is None:
        definitions = current_app.extensions["sso"].profile_fields()
    fields = ScimFields(definitions)
    g.scim_names = fields.names()
    return fields


def _user_response(user, status: int = 200, fields: ScimFields | None = None) -> Response:
    location = f"{_base()}/Users/{user['user_id']}"
    body = response_json(user, location, fields, *_selection())
    headers = {"ETag": etag(user.version)}
    if status == 201:
        headers["Location"] = location
    return scim_json(body, status, headers)


def _selection(query: Any = None) -> tuple[list[str] | None, list[str] | None]:
    query = request.args if query is None else query

    def listed(name: str) -> list[str] | None:
        value = query.get(name)
        return [part.strip() for part in value.split(",") if part.strip()] if value else None

    return listed("attributes"), listed("excludedAttributes")


def _int_arg(query: Any, name: str, default: int) -> int:
    value = query.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ScimProblem(400, "invalidValue", f"{name} must be a whole number")
    try:
        return int(value)
    except ValueError:
        raise ScimProblem(400, "invalidValue", f"{name} must be a whole number") from None


# --- discovery ---------------------------------------------------------------------------------------------


def service_provider_config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=PAGE_SIZE_MAX),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="A SCIM client's token from `flask sso create-scim-client NAME --role ROLE`",
                primary=True,
            )
        ],
    )


def user_resource_type(fields: ScimFields) -> ResourceType:
    """The User resource type, with the extensions that profile fields map attributes of."""
    return ResourceType.model_validate(
        {
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User accounts",
            "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
            "schemaExtensions": [
                {"schema": urn, "required": False} for urn in (SCIM_ENTERPRISE, SCIM_PROFILE) if fields.of(urn)
            ],
        }
    )


def _discovery(resource: Any) -> dict[str, Any]:
    body = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    return body


def _listed(resources: list[dict[str, Any]]) -> Response:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(resources),
        "startIndex": 1,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
    return scim_json(body)


def get_service_provider_config() -> Response:
    body = _discovery(service_provider_config())
    body["meta"] = {"resourceType": "ServiceProviderConfig", "location": f"{_base()}/ServiceProviderConfig"}
    return scim_json(body)


def _resource_types() -> list[dict[str, Any]]:
    body = _discovery(user_resource_type(_fields()))
    body["meta"] = {"resourceType": "ResourceType", "location": f"{_base()}/ResourceTypes/User"}
    return [body]


# What we keep of a User (SPEC §21), each with the sub-attributes we keep; the rest of RFC 7643's User is not
# published, so a client knows not to expect it back. (externalId, id and meta are common attributes.)
SUPPORTED = {
    "userName": None,
    "name": {"givenName", "middleName", "familyName"},
    "displayName": None,
    "active": None,
    "emails": {"value"},  # one address; `type eq "work"` / `primary eq true` select it in filters and paths
}
ALWAYS_SHOWN = ("active",)  # published as required: a lock is no value to remove (`remove active` changes nothing)


def user_schema():
    from scim2_models import User

    schema = User.to_schema()
    kept = []
    for attribute in schema.attributes or []:
        if attribute.name not in SUPPORTED:
            continue
        subs = SUPPORTED[attribute.name]
        if subs is not None and attribute.sub_attributes:
            attribute = attribute.model_copy(
                update={"sub_attributes": [sub for sub in attribute.sub_attributes if sub.name in subs]}
            )
        if attribute.name in ALWAYS_SHOWN:
            attribute = attribute.model_copy(update={"required": Required.true})
        kept.append(attribute)
    return schema.model_copy(update={"attributes": kept})


def _schemas() -> list[dict[str, Any]]:
    found = [_discovery(user_schema())]
    fields = _fields()
    found += [extension_schema(urn, fields.of(urn)) for urn in (SCIM_ENTERPRISE, SCIM_PROFILE) if fields.of(urn)]
    for body in found:
        body["meta"] = {"resourceType": "Schema", "location": f"{_base()}/Schemas/{body['id']}"}
    return found


def get_resource_types() -> Response:
    return _listed(_resource_types())


def get_resource_type(name: str) -> Response:
    found = [body for body in _resource_types() if body["id"] == name]
    if not found:
        raise ScimProblem(404, None, f"no resource type {name}")
    return scim_json(found[0])


def get_schemas() -> Response:
    return _listed(_schemas())


def get_schema(schema_id: str) -> Response:
    found = [body for body in _schemas() if body["id"] == schema_id]
    if not found:
        raise ScimProblem(404, None, f"no schema {schema_id}")
    return scim_json(found[0])


# --- Users -------------------------------------------------------------------------------------------------


def list_users() -> Response:
    return _search(dict(request.args))


def search_users() -> Response:
    """RFC 7644 §3.4.3: the query as a SearchRequest body."""
    request_body: Any = SearchRequest.model_validate(_body(), scim_ctx=Context.SEARCH_REQUEST)
    query = request_body.model_dump(scim_ctx=None, by_alias=True, exclude_none=True)
    for name in ("attributes", "excludedAttributes"):
        if isinstance(query.get(name), list):
            query[name] = ",".join(str(part) for part in query[name])
    return _search(query)


def _search(query: dict[str, Any]) -> Response:
    service = _service()
    start = max(1, _int_arg(query, "startIndex", 1))
    count = max(0, min(_int_arg(query, "count", PAGE_SIZE_MAX), PAGE_SIZE_MAX))  # RFC 7644 §3.4.2.4: capped
    criteria: dict[str, Any] = {"start_index": start, "page_size": max(count, 1)}
    fields = _fields()
    if query.get("filter"):
        criteria["filter"] = search_filter(str(query["filter"]), fields)
    sort_by = str(query.get("sortBy") or "").lower()
    extension = extension_of(sort_by)
    mapped = fields.by_path.get(extension) if extension else None
    if sort_by in SORTABLE or (mapped is not None and mapped.field.searchable):  # a searchable field sorts
        criteria["order_by"] = SORTABLE[sort_by] if mapped is None else mapped.field.name
        criteria["order"] = "desc" if str(query.get("sortOrder") or "").lower() == "descending" else "asc"
    found = service.search(criteria)
    rows = found["result"][:count]
    attributes, excluded = _selection(query)
    resources = [response_json(row, f"{_base()}/Users/{row['user_id']}", fields, attributes, excluded) for row in rows]
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": found["total"],
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
    return scim_json(body)


def create_user() -> Response:
    service = _service()
    fields = _fields()
    body = _body()
    profile = fields.take(body)
    user = ScimUser.model_validate(body, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    data = {name: value for name, value in {**to_data(user), **profile}.items() if value is not None}
    if data.get("is_locked") is False:
        del data["is_locked"]
    created = service.create_user({**data, "auto_approve": True})
    assert created is not None  # not check_only
    return _user_response(created, 201, fields)


def get_user(user_id: str) -> Response:
    service = _service()
    return _user_response(service.get_user_by_id(_user_id(user_id)), fields=_fields())


def replace_user(user_id: str) -> Response:
    """RFC 7644 §3.5.1: the User as sent replaces ours; a mapped attribute it omits is cleared (set to null),
    except `active`, which only changes when sent (a lock is no attribute a directory forgets), and a profile
    field the client's role may not edit (left as it is, as a read-only attribute)."""
    service = _service()
    body = _body()
    definitions = current_app.extensions["sso"].profile_fields()
    profile = ScimFields(definitions).take(body)
    user = ScimUser.model_validate(body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    expected = _if_match()
    read: dict[str, ScimFields] = {}

    def changes_of_put(current: UserData) -> dict[str, Any]:
        fields = read["fields"] = _fields(current.fields)
        before = to_data(to_scim(current, ""))
        before["is_locked"] = current["is_locked"]
        after = to_data(user)
        for item in fields.mapped:
            if item.field.name in current.editable:
                after[item.field.name] = profile.get(item.field.name)
                before[item.field.name] = current.get(item.field.name)
        return differences(before, after)

    updated = service.update_user_from(_user_id(user_id), changes_of_put, expected_version=expected)
    return _user_response(updated, fields=read.get("fields"))


def patch_user(user_id: str) -> Response:
    """The operations applied to the User as the update reads it (no read before it: `patching.py`); what
    changed is one partial update (SPEC §2): all operations land or none; `remove` is our null and touches
    nothing else."""
    service = _service()
    operations = envelope(_body())
    expected = _if_match()
    read: dict[str, ScimFields] = {}

    def changes(current: UserData) -> dict[str, Any]:
        fields = read["fields"] = _fields(current.fields)
        return changes_of(operations, current, fields, _by_models)

    updated = service.update_user_from(_user_id(user_id), changes, expected_version=expected)
    return _user_response(updated, fields=read.get("fields"))


def _by_models(operations: list[dict[str, Any]], current: UserData) -> dict[str, Any]:
    """The operations on core attributes parsed and applied by `scim2-models` to the User as it stands."""
    patch = PatchOp[ScimUser].model_validate(
        {"schemas": [PATCH_OP], "Operations": operations}, scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    user = to_scim(current, "")
    before = to_data(user)
    patch.patch(user)
    changes = differences(before, to_data(user))
    if "username" in changes and changes["username"] is None:
        raise ScimProblem(400, "mutability", "userName is required and cannot be removed")
    return changes


def delete_user(user_id: str) -> Response:
    service = _service()
    expected = _if_match()
    if expected is not None and service.get_user_by_id(_user_id(user_id)).version != expected:
        raise ScimProblem(412, None, "the User has changed since that version")
    service.delete_user(_user_id(user_id))
    return Response(status=204)
