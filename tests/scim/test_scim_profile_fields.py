"""Profile fields with a `scim_path` as SCIM attributes (SPEC §16, §21), on both databases: the enterprise
extension's and our own extension's attributes shown, written (POST, PUT, PATCH) with the field's own rules and
the client's role's view and edit sets, filtered when searchable, published in /Schemas and /ResourceTypes;
`scim_path` checked in the definition. The written JSON of a User is the models' own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from webapp.scim.extensions import ScimFields
from webapp.scim.resources import dump, to_scim, user_json
from webapp.sso import Call, Code, Kind
from webapp.sso.kernel.presentation import UserData

from ..core.helpers import ADDR, APP, CID, refused
from .conftest import ENTERPRISE, SCIM_USER, patch_body, user_body
from .test_scim_users import scim_error

PROFILE = "urn:ietf:params:scim:schemas:extension:sso:2.0:User"
FIELDS = [
    {
        "name": "department",
        "label": "Department",
        "type": "text",
        "max_length": 20,
        "searchable": True,
        "view": ["provisioner"],
        "edit": ["provisioner"],
        "scim_path": f"{ENTERPRISE}:department",
    },
    {
        "name": "employee_no",
        "label": "Employee number",
        "type": "text",
        "regex": "E[0-9]{4}",
        "regex_message": "must be E and four digits",
        "view": ["provisioner"],
        "edit": ["provisioner"],
        "scim_path": f"{ENTERPRISE}:EMPLOYEENUMBER",  # stored as RFC 7643 writes it
    },
    {
        "name": "desk",
        "label": "Desk",
        "type": "integer",
        "searchable": True,
        "view": ["provisioner"],
        "edit": ["provisioner"],
        "scim_path": f"{PROFILE}:desk",
    },
    {
        "name": "remote",
        "label": "Remote",
        "type": "bool",
        "view": ["provisioner"],
        "edit": ["provisioner"],
        "scim_path": f"{PROFILE}:remote",
    },
    {  # the directory may read it but not write it
        "name": "grade",
        "label": "Grade",
        "type": "text",
        "view": ["provisioner"],
        "edit": [],
        "scim_path": f"{PROFILE}:grade",
    },
    {  # the directory may neither read nor write it
        "name": "salary",
        "label": "Salary",
        "type": "integer",
        "view": [],
        "edit": [],
        "scim_path": f"{PROFILE}:salary",
    },
]


@pytest.fixture
def admin_service(sso, admin):
    return sso.serve(Call(CID, admin[1], APP, ADDR))


@pytest.fixture
def mapped(admin_service, scim):
    for definition in FIELDS:
        admin_service.define_profile_field(definition)
    return admin_service


def created(scim, username="bjensen", **extra) -> dict:
    answer = scim.post("/Users", json={**user_body(username), **extra})
    assert answer.status_code == 201, answer.json
    return answer.json


def stored(sso, admin, user_id: str):
    return sso.user.get_user_by_id("t", user_id, admin[1], "CRM", "127.0.0.1")


def test_a_bad_scim_path_is_refused_naming_the_field(admin_service):
    admin_service.define_profile_field(
        {"name": "department", "label": "Department", "type": "text", "scim_path": f"{ENTERPRISE}:department"}
    )
    bad = {
        f"{ENTERPRISE}:Department": "is already the SCIM path of the profile field 'department'",
        f"{ENTERPRISE}:manager": f"(field 'other') is no SCIM attribute this service maps: it must be {ENTERPRISE}:",
        "urn:example:User:department": f"must be {ENTERPRISE}:ATTRIBUTE",
        "title": f"'title' (field 'other') is no SCIM attribute this service maps: it must be {ENTERPRISE}:ATTRIBUTE",
        f"{PROFILE}:has space": f"or {PROFILE}:NAME",
    }
    for path, message in bad.items():
        with refused(Kind.invalid, Code.invalid_input) as info:
            admin_service.define_profile_field({"name": "other", "label": "Other", "type": "text", "scim_path": path})
        assert list(info.value.errors) == ["scim_path"] and message in info.value.errors["scim_path"], path
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field(
            {"name": "cost", "label": "Cost", "type": "integer", "scim_path": f"{ENTERPRISE}:costCenter"}
        )
    assert "is a string: field 'cost' must be of type text" in info.value.errors["scim_path"]
    with refused(Kind.invalid, Code.invalid_input) as info:  # a change to a path another field holds
        admin_service.define_profile_field({"name": "unit", "label": "Unit", "type": "text"})
        admin_service.change_profile_field("unit", {"scim_path": f"{ENTERPRISE}:DEPARTMENT"})
    assert "'department'" in info.value.errors["scim_path"]
    fine = admin_service.define_profile_field(
        {"name": "cost", "label": "Cost", "type": "text", "scim_path": f"{ENTERPRISE.upper()}:COSTCENTER"}
    )
    assert fine.scim_path == f"{ENTERPRISE}:costCenter"


def test_mapped_fields_are_published_in_schemas_and_resource_types(scim, mapped):
    types = scim.get("/ResourceTypes/User").json
    assert types["schemaExtensions"] == [
        {"schema": ENTERPRISE, "required": False},
        {"schema": PROFILE, "required": False},
    ]
    schemas = {body["id"]: body for body in scim.get("/Schemas").json["Resources"]}
    enterprise = {a["name"]: a for a in schemas[ENTERPRISE]["attributes"]}
    assert set(enterprise) == {"department", "employeeNumber"}  # only what a field keeps
    assert enterprise["department"]["type"] == "string" and enterprise["department"]["mutability"] == "readWrite"
    ours = {a["name"]: a for a in schemas[PROFILE]["attributes"]}
    assert ours["desk"]["type"] == "integer" and ours["remote"]["type"] == "boolean"
    assert scim.get(f"/Schemas/{PROFILE}").json["id"] == PROFILE


def test_no_mapped_field_publishes_no_extension(scim):
    assert scim.get("/ResourceTypes/User").json.get("schemaExtensions", []) == []
    assert [body["id"] for body in scim.get("/Schemas").json["Resources"]] == [SCIM_USER]


def test_create_writes_mapped_fields_and_get_shows_what_the_role_may_view(scim, mapped, sso, admin):
    user = created(
        scim,
        schemas=[SCIM_USER, ENTERPRISE, PROFILE],
        **{
            ENTERPRISE: {"department": "Sales", "employeeNumber": "E1234", "costCenter": "not kept"},
            PROFILE: {"desk": 12, "remote": "True"},  # a boolean as Entra ID writes one
        },
    )
    held = stored(sso, admin, user["id"])
    assert (held["department"], held["employee_no"], held["desk"], held["remote"]) == ("Sales", "E1234", 12, True)
    assert user[ENTERPRISE] == {"department": "Sales", "employeeNumber": "E1234"}
    assert user[PROFILE] == {"desk": 12, "remote": True}
    assert user["schemas"] == [SCIM_USER, ENTERPRISE, PROFILE]
    mapped.update_user(user["id"], {"salary": 90000, "grade": "B"})
    shown = scim.get(f"/Users/{user['id']}").json
    assert shown[PROFILE] == {"desk": 12, "remote": True, "grade": "B"}  # never the salary
    only = scim.get(f"/Users/{user['id']}", query_string={"attributes": f"userName,{ENTERPRISE}:department"}).json
    assert only[ENTERPRISE] == {"department": "Sales"} and PROFILE not in only
    without = scim.get(f"/Users/{user['id']}", query_string={"excludedAttributes": PROFILE}).json
    assert PROFILE not in without and without[ENTERPRISE]["employeeNumber"] == "E1234"


def test_entra_style_patch_of_enterprise_attributes(scim, mapped, sso, admin):
    user = created(scim)
    answer = scim.patch(
        f"/Users/{user['id']}",
        json=patch_body(
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Engineering"},
            {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "E0042"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "some-id"},  # no field maps it: ignored
        ),
    )
    assert answer.status_code == 200, answer.json
    assert answer.json[ENTERPRISE] == {"department": "Engineering", "employeeNumber": "E0042"}
    held = stored(sso, admin, user["id"])
    assert (held["department"], held["employee_no"], held.version) == ("Engineering", "E0042", 2)
    removed = scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "Remove", "path": f"{ENTERPRISE}:department"}))
    assert removed.status_code == 200 and removed.json[ENTERPRISE] == {"employeeNumber": "E0042"}
    held = stored(sso, admin, user["id"])
    assert (held["department"], held["employee_no"]) == (None, "E0042")  # remove is null, nothing else


def test_okta_style_pathless_patch_with_an_extension_object(scim, mapped, sso, admin):
    user = created(scim)
    answer = scim.patch(
        f"/Users/{user['id']}",
        json=patch_body(
            {
                "op": "replace",
                "value": {"displayName": "Babs", ENTERPRISE: {"department": "Ops"}, f"{PROFILE}:desk": "7"},
            }
        ),
    )
    assert answer.status_code == 200, answer.json
    held = stored(sso, admin, user["id"])
    assert (held["display_name"], held["department"], held["desk"]) == ("Babs", "Ops", 7)


def test_a_value_the_field_refuses_is_invalid_value_naming_its_path_and_writes_nothing(scim, mapped, sso, admin):
    user = created(scim)
    answer = scim.patch(
        f"/Users/{user['id']}",
        json=patch_body(
            {"op": "replace", "path": "displayName", "value": "changed"},
            {"op": "replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "12"},
        ),
    )
    body = scim_error(answer, 400, "invalidValue")
    assert f"{ENTERPRISE}:employeeNumber: must be E and four digits" in body["detail"]
    held = stored(sso, admin, user["id"])
    assert (held["display_name"], held["employee_no"], held.version) == (None, None, 1)
    too_long = scim.post("/Users", json={**user_body("other"), ENTERPRISE: {"department": "x" * 21}})
    assert f"{ENTERPRISE}:department" in scim_error(too_long, 400, "invalidValue")["detail"]


def test_a_field_outside_the_roles_edit_set_is_refused_and_unknown_attributes_of_ours_are_invalid_path(
    scim, mapped, sso, admin
):
    user = created(scim)
    for path in (f"{PROFILE}:grade", f"{PROFILE}:salary"):
        answer = scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "add", "path": path, "value": "1"}))
        assert scim_error(answer, 403)["detail"].startswith(path)
    unknown = scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "add", "path": f"{PROFILE}:nope", "value": 1}))
    scim_error(unknown, 400, "invalidPath")
    scim_error(scim.post("/Users", json={**user_body("x"), PROFILE: {"nope": 1}}), 400, "invalidPath")
    assert stored(sso, admin, user["id"]).version == 1


def test_put_clears_the_mapped_fields_it_omits_that_the_role_may_edit(scim, mapped, sso, admin):
    user = created(scim, **{ENTERPRISE: {"department": "Sales"}, PROFILE: {"desk": 3}})
    mapped.update_user(user["id"], {"grade": "B"})
    body = scim.get(f"/Users/{user['id']}").json
    body[PROFILE] = {"desk": 4, "grade": "B"}  # grade: sent as it is (a read-only attribute for this role)
    del body[ENTERPRISE]
    answer = scim.put(f"/Users/{user['id']}", json=body)
    assert answer.status_code == 200, answer.json
    held = stored(sso, admin, user["id"])
    assert (held["department"], held["desk"], held["grade"]) == (None, 4, "B")
    body = answer.json
    del body[PROFILE]  # grade omitted: the role may not edit it, so it is left as it is
    assert scim.put(f"/Users/{user['id']}", json=body).status_code == 200
    held = stored(sso, admin, user["id"])
    assert (held["desk"], held["grade"]) == (None, "B")


def test_filters_on_a_mapped_searchable_field(scim, mapped):
    ids = {}
    for name, department, desk in (("ann", "Sales", 1), ("bob", "Sales Ops", 20), ("cy", "Legal", None)):
        extra = {ENTERPRISE: {"department": department}} | ({PROFILE: {"desk": desk}} if desk else {})
        ids[name] = created(scim, name, **extra)["id"]

    def found(expression: str) -> set[str]:
        answer = scim.get("/Users", query_string={"filter": expression})
        assert answer.status_code == 200, answer.json
        return {name for name, user_id in ids.items() if user_id in {r["id"] for r in answer.json["Resources"]}}

    assert found(f'{ENTERPRISE}:department eq "sales"') == {"ann"}
    assert found(f'{ENTERPRISE}:department sw "Sales"') == {"ann", "bob"}
    assert found(f'{ENTERPRISE}:department co "ops" or {PROFILE}:desk eq 1') == {"ann", "bob"}
    assert found(f"{PROFILE}:desk gt 5") == {"bob"}
    assert found(f"not ({PROFILE}:desk pr)") == {"cy"}
    assert found(f'{ENTERPRISE}:department ne "Legal" and userName sw "a"') == {"ann"}
    by_desk = scim.get("/Users", query_string={"sortBy": f"{PROFILE}:desk", "sortOrder": "descending"})
    assert [r["id"] for r in by_desk.json["Resources"]][:2] == [ids["bob"], ids["ann"]]
    not_searchable = scim.get("/Users", query_string={"filter": f'{ENTERPRISE}:employeeNumber eq "E1234"'})
    assert "no searchable profile field" in scim_error(not_searchable, 400, "invalidFilter")["detail"]
    unmapped = scim.get("/Users", query_string={"filter": f'{ENTERPRISE}:division eq "x"'})
    scim_error(unmapped, 400, "invalidFilter")
    bad_value = scim.get("/Users", query_string={"filter": f'{PROFILE}:desk eq "many"'})
    scim_error(bad_value, 400, "invalidFilter")


def test_department_with_no_field_is_accepted_and_ignored(scim, sso, admin):
    user = created(scim, schemas=[SCIM_USER, ENTERPRISE], **{ENTERPRISE: {"department": "Engineering"}})
    assert ENTERPRISE not in user and user["schemas"] == [SCIM_USER]
    answer = scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Sales"})
    )
    assert answer.status_code == 200 and stored(sso, admin, user["id"]).version == 1  # nothing written


def test_a_patch_that_changes_nothing_answers_the_user_as_it_stands(scim, sso, admin):
    user = created(scim)
    for operation in (
        {"op": "replace", "path": "active", "value": True},
        {"op": "replace", "value": {"active": True}},
        {"op": "remove", "path": "displayName"},
    ):
        answer = scim.patch(f"/Users/{user['id']}", json=patch_body(operation))
        assert answer.status_code == 200 and answer.json["meta"]["version"] == 'W/"1"', answer.json
    stale = scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "remove", "path": "displayName"}), headers={"If-Match": 'W/"9"'}
    )
    scim_error(stale, 412)


def test_the_written_json_is_the_models_json():
    fields = ScimFields(())
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    for values in (
        {"email": "a@example.com", "display_name": "Ann", "first_name": "A", "middle_name": None, "last_name": "B"},
        {"email": None, "display_name": None, "first_name": None, "middle_name": None, "last_name": None},
    ):
        for locked, external, modified in ((False, "e-1", when), (True, None, None)):
            user = UserData(
                user_id="u1", username="ann", is_locked=locked, sign_up_time=datetime(2026, 1, 1, tzinfo=UTC), **values
            )
            user.version, user.external_id, user.last_modified = 3, external, modified
            location = "http://x/scim/v2/Users/u1"
            assert user_json(user, location, fields) == dump(to_scim(user, location))


def test_removing_an_extension_clears_the_fields_the_role_may_edit(scim, mapped, sso, admin):
    user = created(scim, **{ENTERPRISE: {"department": "Sales"}, PROFILE: {"desk": 5, "remote": False}})
    mapped.update_user(user["id"], {"grade": "B"})
    answer = scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "remove", "path": PROFILE}))
    assert answer.status_code == 200, answer.json
    held = stored(sso, admin, user["id"])
    assert (held["desk"], held["remote"], held["grade"], held["department"]) == (None, None, "B", "Sales")
    assert answer.json[PROFILE] == {"grade": "B"}
    bad = scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "add", "path": PROFILE, "value": "x"}))
    scim_error(bad, 400, "invalidValue")
    odd = scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "add", "path": f"{PROFILE}:desk", "value": [1]}))
    assert "desk" in scim_error(odd, 400, "invalidValue")["detail"]


HOSTILE_OPERATIONS: list[dict[str, Any]] = [
    {"op": "add", "path": f"{PROFILE}:desk", "value": {"value": "x"}},
    {"op": "add", "path": f"{PROFILE}:desk.sub", "value": 1},
    {"op": "add", "path": f"{PROFILE}:", "value": 1},
    {"op": "replace", "path": f"{ENTERPRISE}:department", "value": None},
    {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "\x00"},
    {"op": "replace", "path": f"{ENTERPRISE}:manager.value", "value": 5},
    {"op": "replace", "value": {PROFILE: [1]}},
    {"op": "replace", "value": {f"{PROFILE}:remote": "maybe"}},
    {"op": "replace", "value": {"name": "not an object"}},
    {"op": "replace", "value": {"active": "perhaps"}},
    {"op": "remove", "path": f"{ENTERPRISE}"},
    {"op": "remove", "path": "userName"},
    {"op": "move", "path": "displayName"},
    {"op": "add", "path": 7},
    {"op": "remove"},
]


def test_no_hostile_operation_is_a_server_error(scim, mapped, sso, admin):
    user = created(scim)
    for operation in HOSTILE_OPERATIONS:
        answer = scim.patch(f"/Users/{user['id']}", json=patch_body(operation))
        assert answer.status_code < 500 and answer.json is not None, (operation, answer.data)
    extensions: list[dict[str, Any]] = [
        {PROFILE: "x"},
        {ENTERPRISE: {"department": 5}},
        {PROFILE: {"remote": "maybe"}},
        {ENTERPRISE: None},
    ]
    for extension in extensions:
        answer = scim.post("/Users", json={**user_body("hostile"), **extension})
        assert answer.status_code < 500 and answer.json is not None, (extension, answer.data)
    envelopes: list[Any] = [{"schemas": []}, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}, [], "x"]
    for envelope in envelopes:
        assert scim.patch(f"/Users/{user['id']}", json=envelope).status_code == 400
