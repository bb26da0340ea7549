"""Profile fields with a `scim_path` (SPEC §16, §21) as SCIM attributes: the enterprise extension's
(RFC 7643 §4.3: department, employeeNumber, costCenter, organization, division) and our own extension schema
(`SCIM_PROFILE`) for the rest.

A mapped field is an attribute of the User like any other: shown (when the client's role may view it and it
holds a value), written by POST, PUT and PATCH (the service checks the value with the field's own rules and
the role's edit set), filtered (when searchable) and published in `/Schemas` and `/ResourceTypes`. An
attribute of the enterprise extension that no field maps is accepted and ignored (Entra ID sends `department`
to every application; the published schema does not list it, so a client that reads it knows it is not
kept); one of our own schema that no field maps is an error (`invalidPath`). No import of `scim2-models`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..sso.kernel.profile_fields import (
    SCIM_ENTERPRISE,
    SCIM_PROFILE,
    STRING_TYPES,
    ProfileField,
    split_scim_path,
    wire_value,
)
from .errors import ScimProblem

EXTENSIONS = (SCIM_ENTERPRISE, SCIM_PROFILE)
_EXTENSIONS = {urn.lower(): urn for urn in EXTENSIONS}


@dataclass(frozen=True)
class Mapped:
    """One profile field as a SCIM attribute: `urn:attribute`."""

    field: ProfileField
    urn: str
    attribute: str


class ScimFields:
    """The live profile fields that have a `scim_path`, looked up by (schema, attribute) case-insensitively."""

    def __init__(self, fields: Iterable[ProfileField]):
        self.mapped: list[Mapped] = []
        self.by_path: dict[tuple[str, str], Mapped] = {}
        for f in fields:
            parts = split_scim_path(f.scim_path) if f.scim_path and not f.retired else None
            if parts is not None:
                item = Mapped(f, parts[0], parts[1])
                self.mapped.append(item)
                self.by_path[(parts[0], parts[1].lower())] = item

    def of(self, urn: str) -> list[Mapped]:
        return [item for item in self.mapped if item.urn == urn]

    def names(self) -> dict[str, str]:
        """Field name -> its SCIM path (for an error's detail)."""
        return {item.field.name: f"{item.urn}:{item.attribute}" for item in self.mapped}

    def find(self, urn: str, attribute: str) -> Mapped | None:
        """The field mapped to `urn:attribute`; None for an enterprise attribute no field maps (ignored);
        ScimProblem (invalidPath) for an attribute of our own schema that no field maps."""
        found = self.by_path.get((urn, attribute.lower()))
        if found is None and urn == SCIM_PROFILE:
            raise ScimProblem(400, "invalidPath", f"{SCIM_PROFILE} has no attribute {attribute[:64]!r}")
        return found

    # --- our user as SCIM ------------------------------------------------------------------------------

    def shown(self, user: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """{schema URN: {attribute: value}} of the mapped fields the user shows (those the caller may view
        and that hold a value)."""
        found: dict[str, dict[str, Any]] = {}
        for item in self.mapped:
            value = user.get(item.field.name)
            if value is not None:
                found.setdefault(item.urn, {})[item.attribute] = wire_value(item.field, value)
        return found

    # --- SCIM to our data ------------------------------------------------------------------------------

    def take(self, body: dict[str, Any]) -> dict[str, Any]:
        """Remove the extension objects (and their URNs in `schemas`) from a User body and return
        {field name: value} of the mapped attributes they carry."""
        data: dict[str, Any] = {}
        for key in list(body):
            urn = _EXTENSIONS.get(key.lower()) if isinstance(key, str) else None
            if urn is None:
                continue
            values = body.pop(key)
            if values is None:
                continue
            if not isinstance(values, dict):
                raise ScimProblem(400, "invalidSyntax", f"{urn} must be an object")
            for attribute, value in values.items():
                if attribute == "schemas":  # the extension object as a model writes it
                    continue
                item = self.find(urn, str(attribute))
                if item is not None:
                    data[item.field.name] = scim_value(item, value)
        if isinstance(body.get("schemas"), list):
            kept = [urn for urn in body["schemas"] if not (isinstance(urn, str) and urn.lower() in _EXTENSIONS)]
            body["schemas"] = kept
        return data


def extension_of(path: str) -> tuple[str, str] | None:
    """(schema URN, the rest) when a PATCH path is in one of the extensions (`urn:…:User:attribute`, or the
    URN alone), else None."""
    lowered = path.lower()
    for urn in EXTENSIONS:
        if lowered == urn.lower():
            return urn, ""
        if lowered.startswith(urn.lower() + ":"):
            return urn, path[len(urn) + 1 :]
    return None


def scim_value(item: Mapped, value: Any) -> Any:
    """A SCIM value as the field's value (the service checks it with the field's own rules). A boolean or an
    integer sent as a string (Entra ID writes `"False"`) is read as one."""
    f = item.field
    if isinstance(value, dict) and set(value) == {"value"}:  # {"value": x} as some clients wrap a single value
        value = value["value"]
    if f.type == "bool" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if f.type == "integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if f.type == "choices" and isinstance(value, str):
        return [value]
    return value


def attribute_schema(item: Mapped) -> dict[str, Any]:
    """The field as an attribute of a published schema (RFC 7643 §7)."""
    f = item.field
    kind = {"integer": "integer", "bool": "boolean"}.get(f.type, "string")
    body: dict[str, Any] = {
        "name": item.attribute,
        "type": kind,
        "multiValued": f.type == "choices",
        "description": f.description or f.label,
        "required": bool(f.required),
        "caseExact": f.type not in STRING_TYPES,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "server" if f.unique else "none",
    }
    if f.type in ("choice", "choices"):
        body["canonicalValues"] = list(f.option_values)
    return body


def extension_schema(urn: str, items: list[Mapped]) -> dict[str, Any]:
    name, description = (
        ("EnterpriseUser", "Enterprise User (the attributes this service keeps)")
        if urn == SCIM_ENTERPRISE
        else ("ProfileFields", "This service's profile fields")
    )
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": [attribute_schema(item) for item in items],
    }
