"""Restore a value (SPEC §20): put back the old value one audited change replaced, through the normal update.

The record must be an update of the user named (absent: the caller) that changed `attribute`; the attribute
must still be an attribute one edits on the forms and not a secret, or an active profile field (SPEC §16) that
is not sensitive (a sensitive field's records hold no value: "(changed)"). When the field has changed again since
that record, the answer is E011001 naming the field (the console's conflict screen), unless the caller has
seen the current value and asks to restore anyway (`force`). The update runs with the version just read,
so a save in between is a conflict too, and its audit record names the record it restored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...db import reading
from ..kernel.attributes import ATTRIBUTES, text_problem
from ..kernel.audit import SECRET_CHANGE
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user
from ..kernel.permissions import USERS_VIEW, attribute_permission, require
from ..kernel.presentation import UserData, jsonable
from ..kernel.profile_fields import ProfileField, ProfileSchema, wire_value
from ..kernel.profile_rows import load_schema, load_values
from ..kernel.rows import load_user
from ..kernel.tables import audit
from ..kernel.texts import _t
from .update import update_user

RECORD_ID_MAX = 2**31 - 1  # sso_audit.id is an INTEGER (PostgreSQL refuses a larger one)
CHANGED_SINCE = _t("has changed since this record")
EMAIL_CONFIRMED = _t("change your email on My account: a new address is confirmed by email first")
NO_LONGER_A_FIELD = _t("is no longer a field")
NOT_RESTORABLE = _t("cannot be restored (a secret or sensitive field)")


def restorable(name: str) -> bool:
    """Whether a change of attribute `name` can be restored at all: a current attribute edited on the forms,
    never a secret (the audit keeps none) nor one managed by a page of its own (two-factor)."""
    attribute = ATTRIBUTES.get(name)
    return attribute is not None and not attribute.write_only and attribute.on_forms


def field_restorable(f: ProfileField) -> bool:
    """Whether a change of profile field `f` can be restored: an active field that is not sensitive (who may
    edit it is the update's rule, `ProfileField.edit`)."""
    return not f.retired and not f.sensitive


def may_restore(name: str, *, permissions: frozenset[str], own_record: bool) -> bool:
    """Whether a caller holding `permissions` may restore `name` on a record (the update's rule: an
    administrator the fields their permissions write, anyone the self-editable fields of their own record)."""
    if not restorable(name):
        return False
    if own_record and ATTRIBUTES[name].self_editable:
        return True
    return attribute_permission(name) in permissions


def _check(record_id: Any, attribute: Any, force: Any) -> None:
    errors = FieldErrors()
    if type(record_id) is not int or not 1 <= record_id <= RECORD_ID_MAX:
        errors.add("record_id", _t("must be a record id (a whole number of at least 1)"))
    if not isinstance(attribute, str) or not attribute or len(attribute) > 64:
        errors.add("attribute", _t("must be the name of an attribute"))
    if type(force) is not bool:
        errors.add("force", _t("must be true or false"))
    errors.raise_if_any(Kind.invalid)


def _record_of(conn, record_id: int, subject_id: Any) -> Any:
    if not isinstance(subject_id, str) or text_problem(subject_id):  # no user has such an id (nor a record)
        raise SSOError.single(
            Kind.not_found, Code.invalid_input, "record_id", _t("no change with this id was made to this user")
        )
    row = conn.execute(select(audit).where(audit.c.id == record_id)).mappings().first()
    if row is None or row["target_id"] != subject_id:
        # One answer for a record that does not exist and one about somebody else (no probing).
        raise SSOError.single(
            Kind.not_found, Code.invalid_input, "record_id", _t("no change with this id was made to this user")
        )
    return row


def _check_restorable(schema: ProfileSchema, attribute: str, change: dict) -> None:
    """Refuse (E008002 naming `attribute`) what has no restore: a field that no longer exists or is retired,
    a secret, a sensitive field, a record that holds no value ("(changed)")."""
    if attribute in ATTRIBUTES:
        fine = restorable(attribute)
    else:
        f = schema.get(attribute)
        if f is None:
            raise SSOError.single(Kind.invalid, Code.invalid_input, "attribute", NO_LONGER_A_FIELD)
        fine = field_restorable(f)
    if not fine or change == SECRET_CHANGE or "old" not in change:
        raise SSOError.single(Kind.invalid, Code.invalid_input, "attribute", NOT_RESTORABLE)


def _current(conn, schema: ProfileSchema, target: Any, attribute: str) -> Any:
    """The value `attribute` (a built-in or an active profile field) holds now, as the audit writes values."""
    if attribute in ATTRIBUTES:
        return jsonable(target[attribute])
    f = schema.by_name[attribute]
    return wire_value(f, load_values(conn, schema, target["user_id"]).get(attribute))


def restore_value(ctx: Context, call: Call, record_id, attribute, *, user_id=None, force: bool = False) -> UserData:
    """Set `attribute` of `user_id` (None: the caller) back to the old value of audit record `record_id`."""
    _check(record_id, attribute, force)
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        subject_id = caller.user_id if user_id is None else user_id
        if subject_id != caller.user_id:
            if not caller.is_administrator:
                raise SSOError.single(
                    Kind.forbidden, Code.invalid_input, "user_id", _t("you may restore only your own values")
                )
            require(caller, USERS_VIEW)  # reading another user's history; the update then checks the field
        row = _record_of(conn, record_id, subject_id)
        changes = row["changes"] or {}
        if row["action"] != "update" or attribute not in changes or not isinstance(changes[attribute], dict):
            raise SSOError.single(Kind.invalid, Code.invalid_input, "attribute", _t("this record did not change it"))
        schema = load_schema(conn)
        _check_restorable(schema, attribute, changes[attribute])
        own = subject_id == caller.user_id
        if (
            attribute == "email"
            and own
            and not caller.holds(attribute_permission("email"))
            and ctx.settings.get("SSO_EMAIL_CHANGE_CONFIRM")
        ):
            raise SSOError.single(Kind.forbidden, Code.invalid_input, "attribute", EMAIL_CONFIRMED)
        target = load_user(conn, subject_id)
        if target is None:
            raise no_such_user()
        if not force and _current(conn, schema, target, attribute) != changes[attribute].get("new"):
            raise SSOError.single(Kind.precondition, Code.version_conflict, attribute, CHANGED_SINCE)
        version = target["version"]
    return update_user(
        ctx,
        call,
        user_id,
        {attribute: changes[attribute].get("old")},
        expected_version=version,
        restored_from=record_id,
    )


def restore_preview(ctx: Context, call: Call, record_id, attribute, *, user_id=None) -> dict[str, Any]:
    """What the conflict screen shows: the record's old and new value and the value stored now (the caller
    must be allowed to read the record: a super-user, or the record is about themself)."""
    _check(record_id, attribute, False)
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        subject_id = caller.user_id if user_id is None else user_id
        if subject_id != caller.user_id:
            require(caller, USERS_VIEW)
        row = _record_of(conn, record_id, subject_id)
        change = (row["changes"] or {}).get(attribute)
        if row["action"] != "update" or not isinstance(change, dict):
            raise SSOError.single(Kind.invalid, Code.invalid_input, "attribute", _t("this record did not change it"))
        schema = load_schema(conn)
        _check_restorable(schema, attribute, change)
        target = load_user(conn, subject_id)
        if target is None:
            raise no_such_user()
        return {
            "record_id": record_id,
            "attribute": attribute,
            "time": row["time"],
            "old": change.get("old"),
            "new": change.get("new"),
            "current": _current(conn, schema, target, attribute),
            "version": target["version"],
        }
