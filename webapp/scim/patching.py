"""A SCIM PATCH (RFC 7644 §3.5.2) as the partial update of SPEC §2, computed from the user as the update reads it.

Three kinds of operation, applied in their order:
- on a mapped profile field (an extension's attribute, `urn:…:User:department`, or a path-less value that
  carries one): done here, with the field's value (the service checks it with the field's rules);
- on one of our plain single-valued attributes (`userName`, `displayName`, `name.givenName|middleName|
  familyName`, `externalId`, `active`) with a plain value: done here too, the common case of Entra ID and
  Okta, without building the User as a model (a third of the request's CPU time otherwise);
- anything else (value paths such as `emails[type eq "work"].value`, complex values, path-less core values):
  parsed and applied by `scim2-models` to the User as it stands, as before.
What changed against the user as read is the update (all operations land or none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..sso.kernel.presentation import UserData
from .errors import ScimProblem
from .extensions import EXTENSIONS, ScimFields, extension_of, scim_value

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_PREFIX = "urn:ietf:params:scim:schemas:core:2.0:user:"
OPERATIONS = ("add", "replace", "remove")
OPERATIONS_MAX = 1000
# Plain single-valued attributes a PATCH sets without the models: path (folded) -> our attribute.
PLAIN = {
    "username": "username",
    "displayname": "display_name",
    "name.givenname": "first_name",
    "name.middlename": "middle_name",
    "name.familyname": "last_name",
    "externalid": "external_id",
    "active": "is_locked",
}


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):  # Entra ID's "False"
        return value.lower() == "true"
    return None


def _plain(operation: dict[str, Any]) -> tuple[str, Any] | None:
    """(our attribute, value) of an operation on a plain attribute with a plain value, else None."""
    path = operation.get("path")
    if not isinstance(path, str):
        return None
    folded = path.lower()
    if folded.startswith(CORE_PREFIX):
        folded = folded[len(CORE_PREFIX) :]
    name = PLAIN.get(folded)
    if name is None:
        return None
    if operation["op"] == "remove":
        return (name, None) if operation.get("value") is None else None
    value = operation.get("value")
    if name == "is_locked":
        active = _boolean(value)
        return None if active is None else (name, not active)
    return (name, value) if isinstance(value, str) else None


def envelope(body: Any) -> list[dict[str, Any]]:
    """The operations of a PatchOp message, each with its `op` folded; ScimProblem for a message that is not one."""
    if not isinstance(body, dict):
        raise ScimProblem(400, "invalidSyntax", "the request body must be a JSON object")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_OP not in schemas:
        raise ScimProblem(400, "invalidValue", f"schemas must be [{PATCH_OP!r}]")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimProblem(400, "invalidValue", "Operations must be a list of at least one operation")
    if len(operations) > OPERATIONS_MAX:
        raise ScimProblem(400, "tooMany", f"at most {OPERATIONS_MAX} operations in one request")
    found = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or not isinstance(operation.get("op"), str):
            raise ScimProblem(400, "invalidValue", f"Operations[{index}] must be an object with an op")
        op = operation["op"].lower()
        if op not in OPERATIONS:
            raise ScimProblem(400, "invalidValue", f"Operations[{index}].op must be add, replace or remove")
        if "path" in operation and not isinstance(operation["path"], str):
            raise ScimProblem(400, "invalidPath", f"Operations[{index}].path must be a string")
        if op == "remove" and not operation.get("path"):
            raise ScimProblem(400, "noTarget", f"Operations[{index}]: remove needs a path")
        found.append({**operation, "op": op})
    return found


def _extension_part(operation: dict[str, Any], fields: ScimFields, into: dict[str, Any], current: UserData) -> bool:
    """Apply an operation on an extension into `into` (field name -> value); True when it was one (wholly)."""
    path = operation.get("path")
    if not path:
        return False
    found = extension_of(path)
    if found is None:
        return False
    urn, rest = found
    op, value = operation["op"], operation.get("value")
    if rest == "":  # the extension as a whole
        if op == "remove":  # clears what the caller may edit of it
            for item in fields.of(urn):
                if item.field.name in current.editable:
                    into[item.field.name] = None
            return True
        if not isinstance(value, dict):
            raise ScimProblem(400, "invalidValue", f"{urn} must be set to an object")
        for attribute, attribute_value in value.items():
            if attribute == "schemas":  # the extension object as a model writes it
                continue
            found_item = fields.find(urn, str(attribute))
            if found_item is not None:
                into[found_item.field.name] = scim_value(found_item, attribute_value)
        return True
    attribute, _, sub = rest.partition(".")
    target = fields.find(urn, attribute)
    if target is None:  # an enterprise attribute no field maps (Entra's department, manager): ignored
        return True
    if sub:
        raise ScimProblem(400, "invalidPath", f"{urn}:{attribute} has no sub-attribute {sub[:64]!r}")
    into[target.field.name] = None if op == "remove" else scim_value(target, value)
    return True


def _pathless_extensions(operation: dict[str, Any], fields: ScimFields, into: dict[str, Any]) -> dict[str, Any] | None:
    """A path-less add/replace: its extension parts applied into `into`; the operation left for the core (None
    when nothing is left)."""
    value = operation.get("value")
    if operation.get("path") or not isinstance(value, dict):
        return operation
    rest: dict[str, Any] = {}
    for key, part in value.items():
        found = extension_of(key) if isinstance(key, str) else None
        if found is None:
            rest[key] = part
            continue
        _extension_part({"op": operation["op"], "path": key, "value": part}, fields, into, UserData())
    return {**operation, "value": rest} if rest else None


def changes_of(
    operations: list[dict[str, Any]],
    current: UserData,
    fields: ScimFields,
    by_models: Callable[[list[dict[str, Any]], UserData], dict[str, Any]],
) -> dict[str, Any]:
    """What the operations change on `current` (SPEC §2's partial update): plain and extension operations
    here, the rest through `by_models` (the models' patch of the User as it stands)."""
    profile: dict[str, Any] = {}
    plain: dict[str, Any] = {}
    core: list[dict[str, Any]] = []
    for operation in operations:
        if _extension_part(operation, fields, profile, current):
            continue
        left = _pathless_extensions(operation, fields, profile)
        if left is not None:
            core.append(left)
    simple = [_plain(operation) for operation in _spread(core)]
    if all(found is not None for found in simple):
        for found in simple:
            assert found is not None
            name, value = found
            if name == "username" and value is None:
                raise ScimProblem(400, "mutability", "userName is required and cannot be removed")
            if name == "is_locked" and value is None:
                continue  # `remove active` changes nothing (active is published as required)
            plain[name] = value
    else:
        plain = by_models(core, current)
    changes = {name: value for name, value in plain.items() if _differs(current, name, value)}
    changes.update({name: value for name, value in profile.items() if current.get(name) != value})
    return changes


def _spread(operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Path-less add/replace values as one operation per attribute (Okta's `{"active": false}`, `{"name":
    {"givenName": …}}`: RFC 7644 §3.5.2.1/3 set each attribute and sub-attribute given, leave the others)."""
    spread: list[dict[str, Any]] = []
    for operation in operations:
        value = operation.get("value")
        if operation.get("path") or not isinstance(value, dict):
            spread.append(operation)
            continue
        for key, part in value.items():
            if isinstance(key, str) and key.lower() == "name" and isinstance(part, dict):
                spread.extend({"op": operation["op"], "path": f"name.{sub}", "value": v} for sub, v in part.items())
            else:
                spread.append({"op": operation["op"], "path": key, "value": part})
    return spread


def _differs(current: UserData, name: str, value: Any) -> bool:
    if name == "external_id":
        return current.external_id != value
    return current.get(name) != value


__all__ = ["EXTENSIONS", "changes_of", "envelope"]
