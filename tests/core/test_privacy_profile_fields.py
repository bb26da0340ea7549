"""Profile fields (SPEC §16) in Download my data and in Restore a value (SPEC §20), on SQLite and PostgreSQL:
the values the person may view are in the file (a sensitive one flagged, never its old → new), an
administrator's copy holds only what that administrator may view; restoring a profile field works as for a
built-in (the current version, a conflict when changed since, `restored_from`), never for a sensitive,
retired or uneditable field."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest

from webapp.sso import Call, Kind

from .helpers import ADDR, APP, CID, audit_of, refused

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "export-schema-v1.json").read_text())
VALIDATOR = jsonschema_rs.Draft202012Validator(SCHEMA, validate_formats=True)

FIELDS = [
    {"name": "department", "label": "Department", "type": "text", "group": "Work"},
    {"name": "start_date", "label": "Start date", "type": "date"},
    {"name": "skills", "label": "Skills", "type": "choices", "options": ["go", "py", "sql"]},
    {"name": "salary", "label": "Salary", "type": "integer", "sensitive": True, "view": ["self"], "edit": ["self"]},
    {"name": "badge", "label": "Badge", "type": "text", "view": ["self", "auditor"], "edit": []},
    {"name": "hr_note", "label": "HR note", "type": "text", "view": [], "edit": []},
    {"name": "old_code", "label": "Old code", "type": "text"},
]


@pytest.fixture
def fields(sso, admin):
    served = sso.serve(Call(CID, admin[1], APP, ADDR))
    for definition in FIELDS:
        served.define_profile_field(definition)
    return served


def export(sso, ust, **kw) -> dict:
    return json.loads("".join(sso.user.export_user(CID, ust, APP, ADDR, **kw)))


def last_update(sso, user_id: str) -> dict:
    return audit_of(sso, user_id, "update")[-1]


def test_the_export_holds_the_profile_fields_the_person_may_view(sso, admin, alice, make_user, login, fields):
    _, admin_ust = admin
    alice_user, alice_ust = alice
    user_id = alice_user["user_id"]
    sso.user.update_current_user(
        CID,
        {"department": "Sales", "start_date": "2024-03-01", "skills": ["py", "go"], "salary": 51000},
        alice_ust,
        APP,
        ADDR,
    )
    sso.user.update_user_by_id(
        CID, user_id, {"badge": "B-7", "hr_note": "ask before promoting", "old_code": "X1"}, admin_ust, APP, ADDR
    )
    sso.user.update_current_user(CID, {"salary": 52000}, alice_ust, APP, ADDR)
    fields.retire_profile_field("old_code")

    document = export(sso, alice_ust)

    assert [f"{e.instance_path}: {e.message}" for e in VALIDATOR.iter_errors(document)] == []
    shown = {f["name"]: f for f in document["profile_fields"]}
    assert set(shown) == {"department", "start_date", "skills", "salary", "badge", "old_code"}  # not hr_note
    assert shown["department"] == {
        "name": "department",
        "label": "Department",
        "group": "Work",
        "type": "text",
        "sensitive": False,
        "retired": False,
        "value": "Sales",
    }
    assert shown["start_date"]["value"] == "2024-03-01"
    assert sorted(shown["skills"]["value"]) == ["go", "py"]
    assert (shown["salary"]["value"], shown["salary"]["sensitive"]) == (52000, True)
    assert (shown["old_code"]["value"], shown["old_code"]["retired"]) == ("X1", True)
    text = json.dumps(document)
    assert "ask before promoting" not in text  # neither the value nor its audit record's old → new
    hr_records = [r["changes"]["hr_note"] for r in document["audit"] if "hr_note" in (r["changes"] or {})]
    assert hr_records == [{"old": "(not shown)", "new": "(changed)"}]
    assert "51000" not in text  # the old salary: a sensitive field is audited as "(changed)" only
    salary_records = [r["changes"]["salary"] for r in document["audit"] if "salary" in (r["changes"] or {})]
    assert salary_records and all(change == {"old": "(not shown)", "new": "(changed)"} for change in salary_records)

    # An auditor's copy (users.view + audit.view): only the fields the auditor may view too.
    auditor = make_user("audit")
    sso.user.grant_role(CID, auditor["user_id"], "auditor", admin_ust, APP, ADDR)
    copy = export(sso, login("audit"), user_id=user_id)
    assert [f["name"] for f in copy["profile_fields"]] == ["badge"]
    # A super-user's copy: everything the person may view.
    assert {f["name"] for f in export(sso, admin_ust, user_id=user_id)["profile_fields"]} == set(shown)


def test_a_user_without_values_gets_every_viewable_field_as_not_set(sso, alice, fields):
    _, alice_ust = alice
    document = export(sso, alice_ust)
    assert VALIDATOR.is_valid(document)
    assert {f["name"]: f["value"] for f in document["profile_fields"]} == {
        "department": None,
        "start_date": None,
        "skills": None,
        "salary": None,
        "badge": None,
        "old_code": None,
    }


def test_restoring_a_profile_field_puts_the_old_value_back_through_the_update(sso, admin, alice, fields):
    _, admin_ust = admin
    alice_user, alice_ust = alice
    user_id = alice_user["user_id"]
    sso.user.update_current_user(CID, {"department": "Sales", "start_date": "2024-03-01"}, alice_ust, APP, ADDR)
    sso.user.update_user_by_id(
        CID, user_id, {"department": "Finance", "start_date": "2025-01-15"}, admin_ust, APP, ADDR
    )
    mistake = last_update(sso, user_id)
    version = sso.user.get_user_by_id(CID, user_id, admin_ust, APP, ADDR).version

    restored = sso.user.restore_value(CID, mistake["id"], "department", alice_ust, APP, ADDR)

    assert restored["department"] == "Sales" and restored.version == version + 1
    record = last_update(sso, user_id)
    assert record["restored_from"] == mistake["id"]
    assert record["changes"] == {"department": {"old": "Finance", "new": "Sales"}}
    # A date comes back as the audit wrote it; an administrator restores on the user's record.
    sso.user.restore_value(CID, mistake["id"], "start_date", admin_ust, APP, ADDR, user_id=user_id)
    assert sso.user.get_user_by_id(CID, user_id, admin_ust, APP, ADDR)["start_date"] == "2024-03-01"
    assert last_update(sso, user_id)["changes"] == {"start_date": {"old": "2025-01-15", "new": "2024-03-01"}}


def test_a_profile_field_changed_since_is_a_conflict_with_a_preview_unless_forced(sso, admin, alice, fields):
    _, admin_ust = admin
    alice_user, alice_ust = alice
    user_id = alice_user["user_id"]
    sso.user.update_current_user(CID, {"skills": ["sql"]}, alice_ust, APP, ADDR)
    sso.user.update_current_user(CID, {"skills": ["go"]}, alice_ust, APP, ADDR)
    first = last_update(sso, user_id)
    sso.user.update_user_by_id(CID, user_id, {"skills": ["go", "py"]}, admin_ust, APP, ADDR)
    before = sso.user.get_user_by_id(CID, user_id, admin_ust, APP, ADDR)

    with refused(Kind.precondition, "E011001") as info:
        sso.user.restore_value(CID, first["id"], "skills", alice_ust, APP, ADDR)
    assert list(info.value.errors) == ["skills"]
    assert sso.user.get_user_by_id(CID, user_id, admin_ust, APP, ADDR) == before  # nothing written
    preview = sso.serve(Call(CID, alice_ust, APP, ADDR)).restore_preview(first["id"], "skills")
    assert (preview["old"], preview["new"], sorted(preview["current"])) == (["sql"], ["go"], ["go", "py"])

    sso.user.restore_value(CID, first["id"], "skills", alice_ust, APP, ADDR, force=True)
    assert sso.user.get_user_by_id(CID, user_id, admin_ust, APP, ADDR)["skills"] == ["sql"]
    assert last_update(sso, user_id)["restored_from"] == first["id"]


def test_no_restore_for_a_sensitive_a_retired_or_an_uneditable_profile_field(sso, admin, alice, fields):
    _, admin_ust = admin
    alice_user, alice_ust = alice
    user_id = alice_user["user_id"]
    sso.user.update_current_user(CID, {"salary": 50000}, alice_ust, APP, ADDR)
    sso.user.update_current_user(CID, {"salary": 60000}, alice_ust, APP, ADDR)
    salary = last_update(sso, user_id)
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, salary["id"], "salary", alice_ust, APP, ADDR)
    assert info.value.errors == {"attribute": "cannot be restored (a secret or sensitive field)"}

    # Badge: alice may view it, only an administrator edits it (the update's own refusal, naming the field).
    sso.user.update_user_by_id(CID, user_id, {"badge": "B-1"}, admin_ust, APP, ADDR)
    sso.user.update_user_by_id(CID, user_id, {"badge": "B-2"}, admin_ust, APP, ADDR)
    badge = last_update(sso, user_id)
    with refused(Kind.forbidden, "E008002") as info:
        sso.user.restore_value(CID, badge["id"], "badge", alice_ust, APP, ADDR)
    assert list(info.value.errors) == ["badge"]

    # A field retired since the record: it no longer takes writes.
    sso.user.update_current_user(CID, {"old_code": "A"}, alice_ust, APP, ADDR)
    sso.user.update_current_user(CID, {"old_code": "B"}, alice_ust, APP, ADDR)
    old_code = last_update(sso, user_id)
    fields.retire_profile_field("old_code")
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, old_code["id"], "old_code", alice_ust, APP, ADDR)
    assert info.value.errors == {"attribute": "is no longer a field"}
    # A field made sensitive after the record (which still holds old → new): no restore either.
    sso.user.update_current_user(CID, {"department": "Sales"}, alice_ust, APP, ADDR)
    sso.user.update_current_user(CID, {"department": "Ops"}, alice_ust, APP, ADDR)
    department = last_update(sso, user_id)
    assert department["changes"] == {"department": {"old": "Sales", "new": "Ops"}}
    fields.change_profile_field("department", {"sensitive": True})
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, department["id"], "department", alice_ust, APP, ADDR)
    assert info.value.errors == {"attribute": "cannot be restored (a secret or sensitive field)"}


def test_history_pages_show_a_field_the_reader_may_not_view_only_as_changed(
    sso, admin, alice, make_user, login, fields
):
    """My activity and Manage user's history say that a profile field outside the reader's `view` set changed,
    never its old or new value (as the export does); a super-user reads everything."""
    _, admin_ust = admin
    alice_user, alice_ust = alice
    user_id = alice_user["user_id"]
    sso.user.update_user_by_id(
        CID, user_id, {"hr_note": "ask before promoting", "badge": "B-7", "department": "Sales"}, admin_ust, APP, ADDR
    )
    hidden = {"old": "(not shown)", "new": "(changed)"}

    [own] = [r for r in sso.user.history(CID, None, alice_ust, APP, ADDR) if r["action"] == "update"]
    assert own["changes"]["hr_note"] == hidden
    assert own["changes"]["badge"] == {"old": None, "new": "B-7"}
    assert own["changes"]["department"] == {"old": None, "new": "Sales"}

    auditor = make_user("audit")
    sso.user.grant_role(CID, auditor["user_id"], "auditor", admin_ust, APP, ADDR)
    [seen] = [r for r in sso.user.history(CID, user_id, login("audit"), APP, ADDR) if r["action"] == "update"]
    assert seen["changes"]["hr_note"] == hidden and seen["changes"]["department"] == hidden  # view: self only
    assert seen["changes"]["badge"] == {"old": None, "new": "B-7"}  # view: self and auditor

    [full] = [r for r in sso.user.history(CID, user_id, admin_ust, APP, ADDR) if r["action"] == "update"]
    assert full["changes"]["hr_note"] == {"old": None, "new": "ask before promoting"}
