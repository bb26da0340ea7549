"""The `/scim/v2/` routes. Each hands its request to `handlers.py`, imported on the first SCIM request: a
worker that never serves SCIM never loads `scim2-models` and pydantic (about 29 MiB)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, request

from . import errors

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")


def _handle(handler: str, /, **arguments: Any) -> Response:
    from . import handlers

    return handlers.run(getattr(handlers, handler), **arguments)


@bp.get("/ServiceProviderConfig")
def get_service_provider_config() -> Response:
    return _handle("get_service_provider_config")


@bp.get("/ResourceTypes")
def get_resource_types() -> Response:
    return _handle("get_resource_types")


@bp.get("/ResourceTypes/<name>")
def get_resource_type(name: str) -> Response:
    return _handle("get_resource_type", name=name)


@bp.get("/Schemas")
def get_schemas() -> Response:
    return _handle("get_schemas")


@bp.get("/Schemas/<schema_id>")
def get_schema(schema_id: str) -> Response:
    return _handle("get_schema", schema_id=schema_id)


@bp.get("/Users")
def list_users() -> Response:
    return _handle("list_users")


@bp.post("/Users/.search")
@bp.post("/.search")
def search_users() -> Response:
    return _handle("search_users")


@bp.post("/Users")
def create_user() -> Response:
    return _handle("create_user")


@bp.get("/Users/<user_id>")
def get_user(user_id: str) -> Response:
    return _handle("get_user", user_id=user_id)


@bp.put("/Users/<user_id>")
def replace_user(user_id: str) -> Response:
    return _handle("replace_user", user_id=user_id)


@bp.patch("/Users/<user_id>")
def patch_user(user_id: str) -> Response:
    return _handle("patch_user", user_id=user_id)


@bp.delete("/Users/<user_id>")
def delete_user(user_id: str) -> Response:
    return _handle("delete_user", user_id=user_id)


KNOWN = re.compile(r"(ServiceProviderConfig|ResourceTypes|Schemas|Users)(/[^/]+)?")


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything else under /scim/v2/: a method an endpoint does not take is 405, the rest (Groups, Bulk, /Me…)
    SCIM's 404."""
    if KNOWN.fullmatch(rest):
        return errors.error_response(405, None, f"{request.method} is not allowed on /{rest}")
    return errors.error_response(404, None, f"no SCIM endpoint /{rest}")
