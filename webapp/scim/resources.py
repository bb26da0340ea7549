"""Our user as a SCIM User and back (SPEC §21's mapping), through the `scim2-models` classes.

userName ↔ username; name.givenName|middleName|familyName ↔ first/middle/last name; displayName;
emails (the primary one, else the first) ↔ email, shown as one `work` address marked primary;
active ↔ not locked; externalId kept as it is; meta.version ↔ the ETag (W/"version").
Profile fields with a `scim_path` are the extensions' attributes (`extensions.py`): not in the models, added
to the JSON here.

`user_json` writes the JSON a User is answered with directly (what `dump(to_scim(…))` writes, a test keeps
them equal): building and dumping the model was a fifth of a PATCH's CPU time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scim2_models import Context, Email, EnterpriseUser, Meta, Name, User

from ..sso.kernel.presentation import UserData
from .extensions import ScimFields

ScimUser = User[EnterpriseUser]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# Our attributes a SCIM User carries (what a PUT that omits them clears, SPEC §21 / RFC 7644 §3.5.1).
MAPPED = ("username", "email", "display_name", "first_name", "middle_name", "last_name", "external_id")


def etag(version: int) -> str:
    return f'W/"{version}"'


def to_scim(user: UserData, location: str) -> ScimUser:
    """The SCIM User for a user as the service shows it."""
    names = {"given_name": user["first_name"], "middle_name": user["middle_name"], "family_name": user["last_name"]}
    return ScimUser(
        id=user["user_id"],
        external_id=user.external_id,
        user_name=user["username"],
        name=Name(**names) if any(value is not None for value in names.values()) else None,
        display_name=user["display_name"],
        emails=[Email(value=user["email"], type=Email.Type.work, primary=True)] if user["email"] else None,
        active=not user["is_locked"],
        meta=Meta(
            resource_type="User",
            created=user["sign_up_time"],
            last_modified=user.last_modified or user["sign_up_time"],
            version=etag(user.version),
            location=location,
        ),
    )


def primary_email(user: ScimUser) -> str | None:
    """The address of the primary email, else of the first one; None when there is none."""
    emails = [email for email in user.emails or [] if email.value]
    chosen = next((email for email in emails if email.primary), emails[0] if emails else None)
    return None if chosen is None else str(chosen.value)


def to_data(user: ScimUser) -> dict[str, Any]:
    """Our attributes (MAPPED) for a SCIM User: what it does not carry is None (cleared), and `is_locked`
    only when it says `active`."""
    name = user.name or Name()
    data: dict[str, Any] = {
        "username": user.user_name,
        "email": primary_email(user),
        "display_name": user.display_name,
        "first_name": name.given_name,
        "middle_name": name.middle_name,
        "last_name": name.family_name,
        "external_id": user.external_id,
    }
    if user.active is not None:
        data["is_locked"] = not user.active
    return data


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What `after` changes against `before`: the partial update of SPEC §2 a PATCH amounts to."""
    return {name: value for name, value in after.items() if name not in before or before[name] != value}


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def user_json(user: UserData, location: str, fields: ScimFields | None = None) -> dict[str, Any]:
    """The User as JSON (every attribute that holds a value), written directly."""
    extensions = fields.shown(user) if fields is not None else {}
    body: dict[str, Any] = {"schemas": [CORE, *extensions], "id": user["user_id"]}
    if user.external_id is not None:
        body["externalId"] = user.external_id
    created = user["sign_up_time"]
    body["meta"] = {
        "resourceType": "User",
        "created": _time(created),
        "lastModified": _time(user.last_modified or created),
        "location": location,
        "version": etag(user.version),
    }
    body["userName"] = user["username"]
    names = (("givenName", "first_name"), ("middleName", "middle_name"), ("familyName", "last_name"))
    name = {key: user[ours] for key, ours in names if user[ours] is not None}
    if name:
        body["name"] = name
    if user["display_name"] is not None:
        body["displayName"] = user["display_name"]
    body["active"] = not user["is_locked"]
    if user["email"]:
        body["emails"] = [{"value": user["email"]}]
    body.update(extensions)
    return body


def response_json(
    user: UserData,
    location: str,
    fields: ScimFields | None = None,
    attributes: list[str] | None = None,
    excluded: list[str] | None = None,
) -> dict[str, Any]:
    """The User as answered: all of it, or the `attributes` asked for (or without the `excluded` ones)."""
    if not attributes and not excluded:
        return user_json(user, location, fields)
    body = dump(to_scim(user, location), attributes, excluded)
    for urn, values in (fields.shown(user) if fields is not None else {}).items():
        kept = {name: value for name, value in values.items() if _selected(urn, name, attributes, excluded)}
        if kept:
            body[urn] = kept
            body["schemas"] = [*body.get("schemas", []), urn]
    return body


def _selected(urn: str, name: str, attributes: list[str] | None, excluded: list[str] | None) -> bool:
    """RFC 7644 §3.9 for an extension's attribute: named (or its schema named) in `attributes`, or not in
    `excluded`."""
    full, schema = f"{urn}:{name}".lower(), urn.lower()
    if attributes:
        return any(asked.lower() in (full, schema) for asked in attributes)
    return not any(left.lower() in (full, schema) for left in excluded or ())


CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


def dump(user: ScimUser, attributes: list[str] | None = None, excluded: list[str] | None = None) -> dict[str, Any]:
    """The User as JSON, with only the `attributes` asked for (or without the `excluded` ones)."""
    from scim2_models import ResponseParameters

    parameters = None
    if attributes or excluded:
        parameters = ResponseParameters[ScimUser].model_validate(
            {"attributes": attributes or None, "excludedAttributes": excluded or None}
        )
    body = user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=parameters)
    for email in body.get("emails") or []:  # one address, published with its value only (views.SUPPORTED)
        email.pop("type", None)
        email.pop("primary", None)
    return body
