"""SPEC §16 over real HTTP: a Zato-style client reads and patches profile fields (live gunicorn, SQLite)."""

from __future__ import annotations

import pytest

from webapp.sso import Call

U = "/zato/sso/user"


@pytest.fixture(scope="module")
def defined(zato):
    admin = zato.sso.serve(Call("t", zato.super_user_ust, "CRM", "127.0.0.1"))
    admin.define_profile_field({"name": "department", "label": "Department", "type": "text", "searchable": True})
    admin.define_profile_field({"name": "skills", "label": "Skills", "type": "choices", "options": ["go", "py"]})
    admin.define_profile_field({"name": "start_date", "label": "Start date", "type": "date"})
    admin.define_profile_field({"name": "grade", "label": "Grade", "type": "integer", "edit": [], "view": []})
    return admin


def test_a_zato_client_reads_and_patches_profile_fields_beside_the_built_ins(zato, defined):
    user_id, username, password = zato.create_and_approve_user()
    ust = zato.login(username, password)
    me = zato.client.get(U, {"ust": ust})
    assert (me.username, me.department, me.skills, me.start_date) == (username, None, None, None)
    assert "grade" not in me
    patched = zato.client.patch(
        U, {"ust": ust, "department": "Ops", "skills": ["py", "go"], "start_date": "2025-01-02", "display_name": "D"}
    )
    assert (patched.department, patched.skills, patched.start_date, patched.display_name) == (
        "Ops",
        ["go", "py"],
        "2025-01-02",
        "D",
    )
    etag = zato.client.get(U, {"ust": ust}).http.headers["ETag"]
    zato.client.patch(U, {"ust": ust, "department": None})
    stale = zato.client.patch(U, {"ust": ust, "skills": []}, expect_ok=False, headers={"If-Match": etag})
    assert (stale.http.status_code, stale.sub_status) == (412, ["E011001"])
    me = zato.client.get(U, {"ust": ust})
    assert (me.department, me.skills) == (None, ["go", "py"])

    forbidden = zato.client.patch(U, {"ust": ust, "grade": 3, "department": "x"}, expect_ok=False)
    assert forbidden.http.status_code == 403 and list(forbidden.errors) == ["grade"]
    assert zato.client.get(U, {"ust": ust}).department is None
    bad = zato.client.patch(U, {"ust": ust, "start_date": "soon", "skills": ["c"]}, expect_ok=False)
    assert bad.http.status_code == 422 and set(bad.errors) == {"start_date", "skills"}

    as_admin = zato.client.patch(U, {"ust": zato.super_user_ust, "user_id": user_id, "grade": 3})
    assert as_admin.grade == 3
    found = zato.client.get(U + "/search", {"ust": zato.super_user_ust, "username": username})
    assert found.result[0]["grade"] == 3 and found.result[0]["skills"] == ["go", "py"]


def test_the_openapi_document_follows_the_live_definitions(zato, defined):
    before = zato.client.http.get(zato.client.base_url + "/zato/sso/openapi.json").json()
    user = before["components"]["schemas"]["User"]["properties"]
    assert user["skills"]["type"] == ["array", "null"] and user["start_date"]["format"] == "date"
    patch = before["paths"]["/zato/sso/user"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert "department" in patch["properties"]
    search = before["paths"]["/zato/sso/user/search"]["get"]
    assert "department" in {p["name"] for p in search["parameters"]} and "skills" not in {
        p["name"] for p in search["parameters"]
    }
    defined.define_profile_field({"name": "floor", "label": "Floor", "type": "integer", "minimum": 0})
    after = zato.client.http.get(zato.client.base_url + "/zato/sso/openapi.json").json()
    assert after["components"]["schemas"]["User"]["properties"]["floor"]["minimum"] == 0
