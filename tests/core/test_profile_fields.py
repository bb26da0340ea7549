"""SPEC §16: profile fields through the Python API, on SQLite and PostgreSQL: every rule of §2–§4 holds."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select, update

from webapp.db import reading, writing
from webapp.sso import Call, Code, Kind
from webapp.sso.kernel.tables import profile_fields, profile_values

from .helpers import ADDR, APP, CID, audit_of, refused, row_of

FIELDS = [
    {"name": "department", "label": "Department", "type": "text", "max_length": 20, "searchable": True},
    {
        "name": "employee_no",
        "label": "Employee number",
        "type": "text",
        "regex": "E[0-9]{4}",
        "regex_message": "must be E and four digits",
        "unique": True,
        "edit": [],
    },
    {"name": "work_email", "label": "Work email", "type": "email"},
    {"name": "homepage", "label": "Homepage", "type": "url"},
    {"name": "phone", "label": "Phone", "type": "phone", "unique": True},
    {"name": "desk", "label": "Desk", "type": "integer", "minimum": 1, "maximum": 500},
    {"name": "remote", "label": "Remote", "type": "bool", "nullable": False},
    {"name": "start_date", "label": "Start date", "type": "date"},
    {"name": "team", "label": "Team", "type": "choice", "options": ["red", "blue"]},
    {"name": "skills", "label": "Skills", "type": "choices", "options": ["go", "py", "sql"]},
    {"name": "salary", "label": "Salary", "type": "integer", "sensitive": True, "view": [], "edit": []},
]


@pytest.fixture
def admin_service(sso, admin):
    return sso.serve(Call(CID, admin[1], APP, ADDR))


@pytest.fixture
def fields(admin_service):
    for definition in FIELDS:
        admin_service.define_profile_field(definition)
    return admin_service


def values_of(sso, user_id: str) -> dict[int, dict]:
    with reading(sso.ctx.engine) as conn:
        rows = conn.execute(select(profile_values).where(profile_values.c.user_id == user_id)).mappings()
        return {row["field_id"]: dict(row) for row in rows}


VALID = [
    ("department", "Finance", "Finance"),
    ("department", "", ""),
    ("employee_no", "E1234", "E1234"),
    ("work_email", "a@example.com", "a@example.com"),
    ("homepage", "https://example.com/a", "https://example.com/a"),
    ("phone", "+44 20 7946 0958", "+442079460958"),
    ("desk", 7, 7),
    ("remote", True, True),
    ("start_date", "2024-02-29", "2024-02-29"),
    ("team", "blue", "blue"),
    ("skills", ["sql", "go", "go"], ["go", "sql"]),
]
INVALID = [
    ("department", "x" * 21, "at most 20"),
    ("department", 5, "must be a string"),
    ("department", "a\x00b", "control characters"),
    ("employee_no", "1234", "must be E and four digits"),
    ("work_email", "", "valid email"),
    ("homepage", "ftp://example.com", "http or https"),
    ("homepage", "javascript:alert(1)", "http or https"),
    ("phone", "+44 12", "phone number"),
    ("phone", "hello", "international form"),
    ("desk", 0, "at least 1"),
    ("desk", "7", "whole number"),
    ("desk", True, "whole number"),
    ("remote", "yes", "true or false"),
    ("remote", None, "may not be empty"),
    ("start_date", "2023-02-29", "YYYY-MM-DD"),
    ("start_date", "2023-01-01T10:00:00", "YYYY-MM-DD"),
    ("team", "green", "one of: red, blue"),
    ("skills", ["java"], "only these options"),
    ("skills", "go", "list of options"),
]


@pytest.mark.parametrize(("name", "value", "shown"), VALID)
def test_each_type_takes_its_valid_values(sso, fields, admin, name, value, shown):
    user = sso.operator.create_local("val", None, super_user=False)
    updated = sso.user.update_user_by_id(CID, user["user_id"], {name: value}, admin[1], APP, ADDR)
    assert updated[name] == shown
    assert sso.user.get_user_by_id(CID, user["user_id"], admin[1], APP, ADDR)[name] == shown


def test_each_type_refuses_its_invalid_values_all_at_once_naming_each_field(sso, fields, admin, unchanged):
    user = sso.operator.create_local("inv", None, super_user=False)
    check = unchanged(user["user_id"])
    for name, value, message in INVALID:
        with refused(Kind.invalid, Code.invalid_input) as info:
            sso.user.update_user_by_id(CID, user["user_id"], {name: value}, admin[1], APP, ADDR)
        assert message in info.value.errors[name], (name, value, info.value.errors)
    data = {"department": "x" * 21, "desk": 0, "email": "not an email"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_user_by_id(CID, user["user_id"], data, admin[1], APP, ADDR)
    assert set(info.value.errors) == {"department", "desk", "email"}
    check()
    assert values_of(sso, user["user_id"]) == {}


def test_absent_null_and_value(sso, fields, alice):
    user, ust = alice
    sso.user.update_current_user(CID, {"department": "Ops", "desk": 3}, ust, APP, ADDR)
    shown = sso.user.update_current_user(CID, {"desk": 4}, ust, APP, ADDR)
    assert (shown["department"], shown["desk"]) == ("Ops", 4)
    shown = sso.user.update_current_user(CID, {"department": None}, ust, APP, ADDR)
    assert shown["department"] is None and shown["desk"] == 4
    shown = sso.user.update_current_user(CID, {"department": ""}, ust, APP, ADDR)
    assert shown["department"] == ""
    version = row_of(sso, user["user_id"])["version"]
    sso.user.update_current_user(CID, {"department": "", "desk": 4}, ust, APP, ADDR)  # nothing changes
    assert row_of(sso, user["user_id"])["version"] == version


def test_unknown_and_retired_fields_are_refused(sso, fields, alice):
    _, ust = alice
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {"no_such_field": 1}, ust, APP, ADDR)
    assert "no_such_field" in info.value.errors
    fields.retire_profile_field("department")
    with refused(Kind.invalid, Code.invalid_input):
        sso.user.update_current_user(CID, {"department": "x"}, ust, APP, ADDR)
    assert "department" not in sso.user.get_current_user(CID, ust, APP, ADDR)


def test_required_is_asked_on_create_and_cannot_be_cleared(sso, admin_service, admin):
    admin_service.define_profile_field({"name": "cost_centre", "label": "Cost centre", "type": "text"})
    admin_service.define_profile_field({"name": "badge", "label": "Badge", "type": "integer", "required": True})
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.create_user(CID, {"username": "nobadge"}, admin[1], APP, ADDR)
    assert info.value.errors == {"badge": "is required"}
    made = sso.user.create_user(CID, {"username": "withbadge", "badge": 9}, admin[1], APP, ADDR)
    assert made["badge"] == 9 and made["cost_centre"] is None
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_user_by_id(CID, made["user_id"], {"badge": None}, admin[1], APP, ADDR)
    assert info.value.errors == {"badge": "is required"}


def test_unique_values_are_refused_case_insensitively_by_name(sso, admin_service, admin):
    admin_service.define_profile_field({"name": "handle", "label": "Handle", "type": "text", "unique": True})
    one = sso.operator.create_local("one", None, super_user=False)
    two = sso.operator.create_local("two", None, super_user=False)
    sso.user.update_user_by_id(CID, one["user_id"], {"handle": "Alpha"}, admin[1], APP, ADDR)
    with refused(Kind.conflict, Code.username_exists) as info:
        sso.user.update_user_by_id(CID, two["user_id"], {"handle": "ALPHA"}, admin[1], APP, ADDR)
    assert list(info.value.errors) == ["handle"]
    with refused(Kind.conflict, Code.username_exists):
        sso.user.create_user(CID, {"username": "three", "handle": "alpha"}, admin[1], APP, ADDR)
    sso.user.update_user_by_id(CID, one["user_id"], {"handle": None}, admin[1], APP, ADDR)
    sso.user.update_user_by_id(CID, two["user_id"], {"handle": "alpha"}, admin[1], APP, ADDR)


def test_the_database_itself_refuses_a_second_unique_value(sso, admin_service):
    from sqlalchemy.exc import IntegrityError

    from webapp.sso.kernel.profile_rows import load_schema, write_value

    admin_service.define_profile_field({"name": "handle", "label": "Handle", "type": "text", "unique": True})
    one = sso.operator.create_local("one", None, super_user=False)
    two = sso.operator.create_local("two", None, super_user=False)
    with writing(sso.ctx.engine) as conn:
        write_value(conn, one["user_id"], load_schema(conn).by_name["handle"], "Beta")
    with pytest.raises(IntegrityError), writing(sso.ctx.engine) as conn:
        write_value(conn, two["user_id"], load_schema(conn).by_name["handle"], "BETA")


def test_view_and_edit_self_versus_super_user(sso, fields, admin, alice, unchanged):
    user, ust = alice
    own = sso.user.get_current_user(CID, ust, APP, ADDR)
    assert "department" in own and "employee_no" in own and "salary" not in own
    check = unchanged(user["user_id"])
    with refused(Kind.forbidden, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {"department": "Ops", "employee_no": "E0001", "salary": 5}, ust, APP, ADDR)
    assert set(info.value.errors) == {"employee_no", "salary"}
    check()
    shown = sso.user.update_user_by_id(CID, user["user_id"], {"employee_no": "E0001", "salary": 5}, admin[1], APP, ADDR)
    assert (shown["employee_no"], shown["salary"]) == ("E0001", 5)
    assert "salary" not in sso.user.get_current_user(CID, ust, APP, ADDR)


def test_the_audit_has_old_and_new_and_sensitive_only_changed(sso, fields, admin, alice):
    user, _ = alice
    as_admin = admin[1]
    sso.user.update_user_by_id(CID, user["user_id"], {"department": "Ops", "salary": 5}, as_admin, APP, ADDR)
    sso.user.update_user_by_id(
        CID, user["user_id"], {"department": "Sales", "salary": 6, "first_name": "Al"}, as_admin, APP, ADDR
    )
    records = audit_of(sso, user["user_id"], "update")
    assert len(records) == 2
    last = records[-1]["changes"]
    assert last["department"] == {"old": "Ops", "new": "Sales"}
    assert last["salary"] == {"old": "(not shown)", "new": "(changed)"}
    assert last["first_name"] == {"old": None, "new": "Al"}
    assert "6" not in str(last["salary"])


def test_version_moves_and_expected_version_is_checked(sso, fields, alice):
    user, ust = alice
    version = row_of(sso, user["user_id"])["version"]
    sso.user.update_current_user(CID, {"department": "Ops"}, ust, APP, ADDR, expected_version=version)
    assert row_of(sso, user["user_id"])["version"] == version + 1
    with refused(Kind.precondition, Code.version_conflict):
        sso.user.update_current_user(CID, {"desk": 2}, ust, APP, ADDR, expected_version=version)
    assert sso.user.get_current_user(CID, ust, APP, ADDR)["desk"] is None


def test_two_writers_of_different_fields_both_survive(sso, fields, admin):
    user = sso.operator.create_local("racer", None, super_user=False)
    errors: list[BaseException] = []

    def write(data):
        try:
            sso.user.update_user_by_id(CID, user["user_id"], data, admin[1], APP, ADDR)
        except BaseException as e:
            errors.append(e)

    for round_ in range(20):
        barrier = threading.Barrier(2)

        def writer(data, barrier=barrier):
            barrier.wait()
            write(data)

        threads = [
            threading.Thread(target=writer, args=({"department": f"d{round_}"},)),
            threading.Thread(target=writer, args=({"desk": round_ + 1, "first_name": f"f{round_}"},)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shown = sso.user.get_user_by_id(CID, user["user_id"], admin[1], APP, ADDR)
        assert (shown["department"], shown["desk"], shown["first_name"]) == (f"d{round_}", round_ + 1, f"f{round_}")
    assert errors == []


def test_a_tightening_change_shows_a_dry_run_and_is_refused_until_cleared(sso, fields, admin):
    users_ = [sso.operator.create_local(f"u{i}", None, super_user=False) for i in range(3)]
    for i, user in enumerate(users_):
        sso.user.update_user_by_id(CID, user["user_id"], {"department": "x" * (5 + i * 5)}, admin[1], APP, ADDR)
    run = fields.profile_field_dry_run("department", {"max_length": 8})
    assert run.count == 2 and run.first_username in ("u1", "u2") and run.clearable
    with refused(Kind.invalid, Code.invalid_input) as info:
        fields.change_profile_field("department", {"max_length": 8})
    assert "2 users hold a value" in info.value.errors["department"]
    before = len(audit_of(sso))
    changed = fields.change_profile_field("department", {"max_length": 8}, clear_violations=True)
    assert changed.max_length == 8
    shown = [sso.user.get_user_by_id(CID, u["user_id"], admin[1], APP, ADDR)["department"] for u in users_]
    assert shown == ["xxxxx", None, None]
    cleared = [r for r in audit_of(sso)[before:] if r["channel"] == "schema"]
    assert len(cleared) == 2 and all(r["action"] == "update" for r in cleared)
    schema_records = audit_of(sso, "profile-schema")
    assert schema_records[-1]["changes"] == {"department.max_length": {"old": 20, "new": 8}}


def test_a_definition_audit_lists_only_what_it_set_or_changed(sso, admin_service):
    admin_service.define_profile_field({"name": "floor", "label": "Floor", "type": "integer"})
    admin_service.delete_profile_field("floor", "floor")
    defined, deleted = audit_of(sso, "profile-schema")[-2:]
    for record in (defined, deleted):
        assert record["changes"] and all(c["old"] != c["new"] for c in record["changes"].values()), record
    assert "floor.regex" not in defined["changes"] and "floor.regex" not in deleted["changes"]
    assert defined["changes"]["floor.type"] == {"old": None, "new": "integer"}
    assert deleted["changes"]["floor.deleted"] == {"old": False, "new": True}


def test_required_on_a_field_some_lack_is_refused(sso, fields, admin):
    sso.operator.create_local("lacking", None, super_user=False)
    run = fields.profile_field_dry_run("team", {"required": True})
    assert run.count >= 1 and not run.clearable
    with refused(Kind.invalid, Code.invalid_input):
        fields.change_profile_field("team", {"required": True}, clear_violations=True)


def test_retire_hides_and_keeps_values_and_delete_needs_the_name(sso, fields, admin, alice):
    user, ust = alice
    sso.user.update_current_user(CID, {"department": "Ops"}, ust, APP, ADDR)
    fields.retire_profile_field("department")
    assert "department" not in sso.user.get_current_user(CID, ust, APP, ADDR)
    fields.retire_profile_field("department", retired=False)
    assert sso.user.get_current_user(CID, ust, APP, ADDR)["department"] == "Ops"
    with refused(Kind.invalid, Code.invalid_input):
        fields.delete_profile_field("department", "Department")
    fields.delete_profile_field("department", "department")
    assert "department" not in sso.user.get_current_user(CID, ust, APP, ADDR)
    assert len(values_of(sso, user["user_id"])) == 0


def test_definitions_are_checked_all_at_once(admin_service):
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field(
            {"name": "username", "label": "", "type": "blob", "nullable": "yes", "regex": "("}
        )
    assert set(info.value.errors) == {"name", "label", "type", "nullable", "regex"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field({"name": "Bad Name", "label": "x", "type": "text"})
    assert "name" in info.value.errors


def test_a_view_or_edit_set_naming_no_role_is_refused_naming_the_field(sso, admin_service):
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field(
            {"name": "badge", "label": "Badge", "type": "text", "view": ["self", "nosuchrole"], "edit": ["ghost"]}
        )
    assert "nosuchrole" in info.value.errors["view"] and "ghost" in info.value.errors["edit"]
    admin_service.define_profile_field({"name": "badge", "label": "Badge", "type": "text", "view": ["helpdesk"]})
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.change_profile_field("badge", {"edit": ["self", "nosuchrole"]})
    assert set(info.value.errors) == {"edit"} and "nosuchrole" in info.value.errors["edit"]
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.operator.import_profile_schema([{"name": "badge", "label": "Badge", "type": "text", "view": ["x_role"]}])
    assert "x_role" in info.value.errors["badge.view"]
    assert admin_service.change_profile_field("badge", {"view": ["helpdesk", "auditor"]}).view == (
        "helpdesk",
        "auditor",
    )


def test_at_most_100_fields(admin_service):
    for i in range(100):
        admin_service.define_profile_field({"name": f"f{i}", "label": f"F{i}", "type": "bool"})
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field({"name": "f100", "label": "F", "type": "bool"})
    assert "100" in info.value.errors["name"]


def test_a_regular_user_cannot_define_fields(sso, alice):
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.serve(Call(CID, alice[1], APP, ADDR)).define_profile_field({"name": "x", "label": "X", "type": "bool"})


def test_export_and_import_are_idempotent(sso, fields):
    exported = sso.operator.export_profile_schema()
    assert [d["name"] for d in exported][:2] == ["department", "employee_no"]
    assert sso.operator.import_profile_schema(exported) == []
    exported[0]["label"] = "Dept."
    new = {"name": "floor", "label": "Floor", "type": "integer"}
    diff = sso.operator.import_profile_schema([*exported, new], dry_run=True)
    assert diff == ["~ department.label: 'Department' -> 'Dept.'", "+ floor"]
    assert sso.operator.import_profile_schema([*exported, new]) == diff
    assert sso.operator.import_profile_schema([*exported, new]) == []
    assert sso.operator.export_profile_schema()[0]["label"] == "Dept."


@pytest.mark.parametrize("dense", [False, True], ids=["few-matches", "many-matches"])
def test_search_filters_and_sorts_by_searchable_fields(sso, fields, admin, monkeypatch, dense):
    if dense:  # the shape a broad match takes (each row tested in the sort order), on a few users
        monkeypatch.setattr("webapp.sso.accounts.search.IN_MAX", 0)
    fields.change_profile_field("team", {"searchable": True})
    fields.change_profile_field("skills", {"searchable": True})
    fields.change_profile_field("desk", {"searchable": True})
    made = {}
    for name, department, team, skills, desk in (
        ("ann", "Finance", "red", ["py"], 30),
        ("bob", "finance ops", "blue", ["go", "sql"], 4),
        ("cid", None, "red", [], 100),
    ):
        made[name] = sso.operator.create_local(name, None, super_user=False)
        data = {"department": department, "team": team, "skills": skills, "desk": desk}
        sso.user.update_user_by_id(CID, made[name]["user_id"], data, admin[1], APP, ADDR)

    def found(**criteria):
        result = sso.user.search(CID, criteria, admin[1], APP, ADDR)["result"]
        return [user["username"] for user in result]

    assert found(department="FINANCE") == ["ann"]
    assert found(department="finance", is_name_exact=False) == ["ann", "bob"]
    assert found(department=None, username="cid") == ["cid"]
    assert found(team="red") == ["ann", "cid"]
    assert found(skills="sql") == ["bob"]
    assert found(desk=4) == ["bob"]
    assert found(team="red", order_by="desk", order="desc") == ["cid", "ann"]
    assert (
        found(desk=30)[0] == "ann"
        and sso.user.search(CID, {"desk": 30}, admin[1], APP, ADDR)["result"][0]["desk"] == 30
    )
    with refused(Kind.invalid, Code.invalid_input) as info:
        found(desk="many", team="green")
    assert set(info.value.errors) == {"desk", "team"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        found(work_email="x@example.com")  # not searchable: not a criterion
    assert set(info.value.errors) == {"work_email"}


def test_the_consoles_user_ids_criterion_lists_exactly_those_users(sso, admin):
    made = [sso.operator.create_local(name, None, super_user=False)["user_id"] for name in ("ann", "bob", "cyd")]
    found = sso.user.search(CID, {"user_ids": [made[0], made[2], "nobody"]}, admin[1], APP, ADDR)
    assert sorted(user["username"] for user in found["result"]) == ["ann", "cyd"] and found["total"] == 2
    for bad in ("ann", [1], ["x"] * 101):
        with refused(Kind.invalid, Code.invalid_input) as info:
            sso.user.search(CID, {"user_ids": bad}, admin[1], APP, ADDR)
        assert set(info.value.errors) == {"user_ids"}


def test_a_filter_lists_users_lacking_a_required_field(sso, admin_service, admin):
    lacking = sso.operator.create_local("lacking", None, super_user=False)
    admin_service.define_profile_field({"name": "badge", "label": "Badge", "type": "integer"})
    having = sso.operator.create_local("having", None, super_user=False)
    sso.user.update_user_by_id(CID, having["user_id"], {"badge": 1}, admin[1], APP, ADDR)
    assert sso.user.search(CID, {"lacking_required": True}, admin[1], APP, ADDR)["result"] == []
    with writing(sso.ctx.engine) as conn:  # required set while some lack it (as before the dry run existed)
        conn.execute(update(profile_fields).values(required=True, nullable=False))
    names = [u["username"] for u in sso.user.search(CID, {"lacking_required": True}, admin[1], APP, ADDR)["result"]]
    assert names == ["admin", "lacking"] and lacking["user_id"]


def test_the_profile_schema_command_exports_and_imports_idempotently(app, sso, tmp_path):
    runner = app.test_cli_runner()
    sso.operator.import_profile_schema([{"name": "department", "label": "Department", "type": "text"}])
    path = tmp_path / "schema.json"
    exported = runner.invoke(args=["sso", "profile-schema", "export", str(path)])
    assert exported.exit_code == 0 and "Exported 1 profile field(s)" in exported.output
    again = runner.invoke(args=["sso", "profile-schema", "import", str(path)])
    assert again.exit_code == 0 and "Nothing to change" in again.output
    definitions = json.loads(path.read_text())
    definitions[0]["max_length"] = 40
    definitions.append({"name": "floor", "label": "Floor", "type": "integer"})
    path.write_text(json.dumps(definitions))
    dry = runner.invoke(args=["sso", "profile-schema", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and dry.output.splitlines()[:2] == ["~ department.max_length: None -> 40", "+ floor"]
    assert len(sso.operator.export_profile_schema()) == 1
    applied = runner.invoke(args=["sso", "profile-schema", "import", str(path)])
    assert applied.exit_code == 0 and "+ floor" in applied.output
    assert runner.invoke(args=["sso", "profile-schema", "import", str(path)]).output.startswith("Nothing to change")
    path.write_text(json.dumps([{"name": "bad name", "label": "x", "type": "text"}]))
    refused_ = runner.invoke(args=["sso", "profile-schema", "import", str(path)])
    assert refused_.exit_code == 1 and "name:" in refused_.output


def test_an_import_is_all_or_nothing_and_its_dry_run_refuses_what_the_real_run_would(app, sso, fields, admin, tmp_path):
    bob = sso.operator.create_local("bob", None, super_user=False)
    sso.user.update_user_by_id(CID, bob["user_id"], {"team": "red", "department": "Ops"}, admin[1], APP, ADDR)
    exported = {d["name"]: d for d in sso.operator.export_profile_schema()}
    team = {**exported["team"], "options": [{"value": "blue", "label": "Blue"}]}
    department = {**exported["department"], "type": "integer"}
    floor = {"name": "floor", "label": "Floor", "type": "integer"}
    for dry_run in (True, False):
        with refused(Kind.invalid, Code.invalid_input) as info:
            sso.operator.import_profile_schema([floor, team, department], dry_run=dry_run)
        assert set(info.value.errors) == {"team", "department"}
        assert "1 user holds a value" in info.value.errors["team"]
        assert [d["name"] for d in sso.operator.export_profile_schema()] == list(exported)
    assert not [r for r in audit_of(sso, "profile-schema") if "floor." in str(r["changes"])]

    path = str(tmp_path / "schema.json")
    with open(path, "w", encoding="utf-8") as target:
        json.dump([floor, team], target)
    runner = app.test_cli_runner()
    for extra in (["--dry-run"], []):
        result = runner.invoke(args=["sso", "profile-schema", "import", path, *extra])
        assert result.exit_code == 1 and "team: 1 user holds a value" in result.output, result.output
        assert "change(s) would be made" not in result.output
    assert "floor" not in {d["name"] for d in sso.operator.export_profile_schema()}


@pytest.mark.parametrize(
    ("pattern", "value", "message"),
    [
        (r"(a+)+$", "a" * 32 + "!", "must be only a's"),  # slow in Python's re, not in the regex package
        (r"(b|bb)+$", "b" * 40 + "!", "too slow"),  # slow in both (and not caught by the definition's probes)
    ],
    ids=["nested", "alternation"],
)
def test_a_catastrophic_regex_cannot_tie_up_a_worker(sso, admin_service, admin, pattern, value, message):
    admin_service.define_profile_field(
        {"name": "code", "label": "Code", "type": "text", "regex": pattern, "regex_message": "must be only a's"}
    )
    bob = sso.operator.create_local("bob", None, super_user=False)
    started = time.monotonic()
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_user_by_id(CID, bob["user_id"], {"code": value}, admin[1], APP, ADDR)
    assert time.monotonic() - started < 3
    assert message in info.value.errors["code"]
    assert sso.user.get_user_by_id(CID, bob["user_id"], admin[1], APP, ADDR)["code"] is None
    good = pattern[1] * 4
    sso.user.update_user_by_id(CID, bob["user_id"], {"code": good}, admin[1], APP, ADDR)
    assert sso.user.get_user_by_id(CID, bob["user_id"], admin[1], APP, ADDR)["code"] == good


def test_a_definition_whose_regex_backtracks_catastrophically_is_refused(admin_service):
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field({"name": "code", "label": "Code", "type": "text", "regex": r"(a|aa)+$"})
    assert "too slow" in info.value.errors["regex"]
    admin_service.define_profile_field({"name": "code", "label": "Code", "type": "text", "regex": r"[a-z]+"})
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.change_profile_field("code", {"regex": r"(\d|\d\d)+$"})
    assert set(info.value.errors) == {"regex"}


def test_sign_up_asks_for_the_required_fields_a_person_may_edit(sso, admin_service, other_app):
    admin_service.define_profile_field({"name": "team", "label": "Team", "type": "choice", "options": ["red"]})
    admin_service.define_profile_field({"name": "badge", "label": "Badge", "type": "integer", "edit": []})
    with writing(sso.ctx.engine) as conn:  # required, the way an import would set it
        conn.execute(update(profile_fields).values(required=True, nullable=False))
    sso = other_app(SSO_SIGNUP_APPS=[APP])
    data = {"username": "newbie", "password": "Correct-Horse-9", "app_list": [APP]}
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.signup(CID, data, APP, ADDR)
    assert info.value.errors == {"team": "is required"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.signup(CID, {**data, "team": "red", "badge": 1}, APP, ADDR)
    assert list(info.value.errors) == ["badge"]
    made = sso.user.signup(CID, {**data, "team": "red"}, APP, ADDR)
    assert audit_of(sso, made.user_id)[0]["changes"]["team"] == {"old": None, "new": "red"}


def test_a_broad_profile_match_counts_and_pages_as_a_narrow_one(sso, admin_service, admin, monkeypatch):
    monkeypatch.setattr("webapp.sso.accounts.search.IN_MAX", 2)  # 3 users share the value: a broad match
    admin_service.define_profile_field({"name": "floor", "label": "Floor", "type": "integer", "searchable": True})
    made = [sso.operator.create_local(f"f{i}", None, super_user=False) for i in range(4)]
    for user in made[:3]:
        sso.user.update_user_by_id(CID, user["user_id"], {"floor": 2}, admin[1], APP, ADDR)
    sso.user.update_user_by_id(CID, made[0]["user_id"], {"is_locked": True}, admin[1], APP, ADDR)

    def found(**criteria):
        answer = sso.user.search(CID, {"page_size": 2, **criteria}, admin[1], APP, ADDR)
        return answer["total"], [user["username"] for user in answer["result"]]

    assert found(floor=2) == (3, ["f0", "f1"])
    assert found(floor=2, cur_page=2) == (3, ["f2"])
    assert found(floor=2, is_locked=False) == (2, ["f1", "f2"])
    assert found(floor=2, username="f2") == (1, ["f2"])
    assert found(floor=3) == (0, [])


def test_a_role_in_a_fields_view_and_edit_sets_sees_and_writes_it_on_others(sso, admin_service, admin, login):
    admin_service.create_role({"name": "hr", "description": "HR", "permissions": ["users.view"]})
    hr_user = sso.operator.create_local("hrperson", "Correct-Horse-9", super_user=False)
    admin_service.grant_role(hr_user["user_id"], "hr")
    admin_service.define_profile_field(
        {"name": "grade", "label": "Grade", "type": "integer", "view": ["hr"], "edit": ["hr"]}
    )
    admin_service.define_profile_field({"name": "salary", "label": "Salary", "type": "integer", "view": [], "edit": []})
    staff = sso.operator.create_local("staff", None, super_user=False)
    hr = sso.serve(Call(CID, login("hrperson"), APP, ADDR))
    shown = hr.update_user(staff["user_id"], {"grade": 3})
    assert shown["grade"] == 3 and "salary" not in shown
    assert "salary" not in hr.get_user_by_id(staff["user_id"])
    with refused(Kind.forbidden, Code.invalid_input) as info:
        hr.update_user(staff["user_id"], {"salary": 1})
    assert list(info.value.errors) == ["salary"]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_by_a_profile_field_pages_through_values_then_users_without_one(sso, admin_service, admin, order):
    """Read in the value index's order (ties by user id in the same direction), then those without a value by
    user id, whichever page the boundary falls on."""
    admin_service.define_profile_field({"name": "desk", "label": "Desk", "type": "integer", "searchable": True})
    ids = {}
    for name, desk in (("ann", 30), ("bob", 10), ("cid", 20), ("dee", 10), ("eve", None), ("fay", None)):
        ids[name] = sso.operator.create_local(name, None, super_user=False)["user_id"]
        if desk is not None:
            admin_service.update_user(ids[name], {"desk": desk})
    held = sorted((d, ids[n]) for n, d in (("ann", 30), ("bob", 10), ("cid", 20), ("dee", 10)))
    expected = [uid for _, uid in (reversed(held) if order == "desc" else held)]
    expected += sorted([ids["admin"] if "admin" in ids else admin[0]["user_id"], ids["eve"], ids["fay"]])
    pages = []
    for page in (1, 2, 3, 4):
        result = admin_service.search({"order_by": "desk", "order": order, "page_size": 2, "cur_page": page})
        pages.append([user["user_id"] for user in result["result"]])
        assert result["total"] == 7 and result["has_next_page"] == (page < 4)
    assert [uid for chunk in pages for uid in chunk] == expected
    everyone = admin_service.search({"order_by": "desk", "order": order, "paginate": False})["result"]
    assert [user["user_id"] for user in everyone] == expected
    tied = admin_service.search({"desk": 10, "order_by": "desk", "order": order})["result"]
    expected_tied = [n for _, n in sorted(((ids["bob"], "bob"), (ids["dee"], "dee")), reverse=order == "desc")]
    assert [u["username"] for u in tied] == expected_tied
