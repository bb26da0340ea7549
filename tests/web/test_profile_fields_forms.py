"""SPEC §16 on the console: each profile field drawn from its type, saved like a built-in, merged or in conflict."""

from __future__ import annotations

import re

import pytest

from webapp.sso import Call

from .html_forms import csrf_token, form, forms, text

CID, APP, ADDR = "cid", "CRM", "::1"


@pytest.fixture
def defined(sso, admin_ust):
    admin = sso.serve(Call(CID, admin_ust, APP, ADDR))
    for definition in (
        {"name": "department", "label": "Department", "type": "text", "group": "Work", "searchable": True},
        {"name": "desk", "label": "Desk", "type": "integer", "group": "Work", "minimum": 1},
        {"name": "start_date", "label": "Start date", "type": "date", "group": "Work"},
        {"name": "remote", "label": "Remote", "type": "bool", "group": "Work"},
        {"name": "team", "label": "Team", "type": "choice", "options": ["red", "blue"], "group": "Work"},
        {"name": "skills", "label": "Skills", "type": "choices", "options": ["go", "py"], "group": "Skills"},
        {"name": "mobile", "label": "Mobile", "type": "phone", "group": "Contact"},
        {"name": "grade", "label": "Grade", "type": "integer", "edit": []},
    ):
        admin.define_profile_field(definition)
    return admin


def element(html: str, element_id: str) -> str:
    """The element with `element_id` up to the next field (its controls and messages)."""
    start = html.index(f'id="{element_id}"')
    end = html.find('id="field-', start + 1)
    return html[start : end if end != -1 else len(html)]


def shown(sso, admin_ust, user_id):
    return sso.user.get_user_by_id(CID, user_id, admin_ust, APP, ADDR)


def test_manage_user_draws_each_type_in_its_section_with_not_set(admin_client, make_user, defined):
    client, _ = admin_client
    bob = make_user("bob", password=None)
    html = text(client.get(f"/users/{bob['user_id']}"))
    for legend in ("Work", "Skills", "Contact"):
        assert f">{legend}<" in html
    assert 'type="date"' in element(html, "field-start_date")
    assert 'inputmode="numeric"' in element(html, "field-desk")
    assert 'type="tel"' in element(html, "field-mobile")
    assert "not set" in element(html, "field-department")
    assert 'name="clear_department"' in element(html, "field-department")
    assert 'type="checkbox"' in element(html, "field-skills") and 'value="py"' in element(html, "field-skills")
    assert "<select" in element(html, "field-team")
    assert "f-remote-unchanged" in element(html, "field-remote")


def test_a_super_user_fills_clears_and_gets_errors_by_field(admin_client, make_user, defined, sso, admin_ust):
    client, _ = admin_client
    bob = make_user("bob", password=None)
    path = f"/users/{bob['user_id']}"
    edit = form(client, path, "user-form")
    edit.fill("department", "Ops").fill("desk", "12").fill("start_date", "2025-03-01").fill("team", "blue")
    edit.check("skills", "py").check("remote", "true").fill("mobile", "+44 20 7946 0958")
    assert edit.submit(client).status_code == 303
    stored = shown(sso, admin_ust, bob["user_id"])
    assert (stored["department"], stored["desk"], stored["start_date"], stored["team"]) == (
        "Ops",
        12,
        "2025-03-01",
        "blue",
    )
    assert (stored["skills"], stored["remote"], stored["mobile"]) == (["py"], True, "+442079460958")

    edit = form(client, path, "user-form")
    edit.check("clear_department").check("clear_team").check("skills", "py", on=False)
    assert edit.submit(client).status_code == 303
    stored = shown(sso, admin_ust, bob["user_id"])
    assert (stored["department"], stored["team"], stored["skills"], stored["desk"]) == (None, None, [], 12)
    assert "not set" in element(text(client.get(path)), "field-department")

    edit = form(client, path, "user-form")
    edit.fill("desk", "zero").fill("start_date", "2025-02-30").fill("mobile", "12")
    answer = edit.submit(client)
    html = text(answer)
    assert answer.status_code == 422
    for name, message in (("desk", "whole number"), ("start_date", "YYYY-MM-DD"), ("mobile", "phone number")):
        assert f'id="f-{name}-error" >' in element(html, f"field-{name}") and message in element(html, f"field-{name}")
    assert shown(sso, admin_ust, bob["user_id"])["desk"] == 12


def test_my_account_shows_fields_i_may_edit_as_controls_and_saves_them(alice_client, defined, sso, admin_ust):
    client, alice = alice_client
    html = text(client.get("/account"))
    assert 'id="f-department"' in html and 'name="grade"' not in html  # grade: view only (its own test)
    edit = form(client, "/account", "account-form")
    edit.fill("department", "Sales")
    assert edit.submit(client).status_code == 303
    assert shown(sso, admin_ust, alice["user_id"])["department"] == "Sales"


def test_saves_of_different_profile_fields_merge_and_the_same_field_conflicts(
    admin_client, make_user, defined, sso, admin_ust
):
    client, _ = admin_client
    bob = make_user("bob", password=None)
    path = f"/users/{bob['user_id']}"
    mine = form(client, path, "user-form")
    theirs = form(client, path, "user-form")
    theirs.fill("desk", "3")
    answer = theirs.submit(client)
    assert answer.status_code == 303, re.findall(r"field-error[^>]*>[^<]+", text(answer))
    mine.fill("department", "Ops")
    assert mine.submit(client).status_code == 303
    stored = shown(sso, admin_ust, bob["user_id"])
    assert (stored["department"], stored["desk"]) == ("Ops", 3)

    mine = form(client, path, "user-form")
    sso.user.update_user_by_id(CID, bob["user_id"], {"department": "Theirs"}, admin_ust, APP, ADDR)
    mine.fill("department", "Mine")
    answer = mine.submit(client)
    assert answer.status_code == 409
    assert "Someone else changed this too" in element(text(answer), "field-department")
    assert shown(sso, admin_ust, bob["user_id"])["department"] == "Theirs"


def test_inline_validation_uses_the_field_rule(admin_client, defined):
    client, _ = admin_client
    page = form(client, "/account", "account-form")
    token = page.value("csrf_token")
    answer = client.post("/validate/user/desk", data={"csrf_token": token, "desk": "0"})
    assert answer.status_code == 200 and "must be at least 1" in text(answer)
    assert client.post("/validate/user/nope", data={"csrf_token": token, "nope": "0"}).status_code == 404


def test_the_list_filters_sorts_and_shows_profile_columns(admin_client, make_user, defined, sso, admin_ust):
    client, _ = admin_client
    defined.change_profile_field("department", {"list_column": True})
    defined.change_profile_field("team", {"searchable": True, "list_column": True})
    for name, department, team in (("ann", "Finance", "red"), ("bob", "Fin Ops", "blue"), ("cy", None, None)):
        user = make_user(name, password=None)
        sso.user.update_user_by_id(CID, user["user_id"], {"department": department, "team": team}, admin_ust, APP, ADDR)

    def rows(**query):
        html = text(client.get("/users", query_string=query))
        return re.findall(r'class="user-link">([a-z]+)<', html), html

    found, html = rows(pf_department="fin")
    assert found == ["ann", "bob"] and 'id="sort-team"' in html and ">Department<" in html
    assert rows(pf_team="red")[0] == ["ann"]
    assert rows(pf_team="(not set)", q="cy")[0] == ["cy"]
    assert rows(sort="team", dir="desc", pf_department="fin")[0] == ["ann", "bob"]
    assert rows(sort="team", pf_department="fin")[0] == ["bob", "ann"]


def test_the_profile_fields_page_adds_edits_dry_runs_retires_and_deletes(admin_client, make_user, sso, admin_ust):
    client, _ = admin_client
    assert 'id="nav-profile-fields"' in text(client.get("/account"))
    new = form(client, "/profile-fields/new", "profile-field-form")
    new.fill("name", "Bad Name").fill("label", "")
    answer = new.submit(client)
    assert answer.status_code == 422 and "lowercase" in text(answer) and "not empty" in text(answer)
    new = form(client, "/profile-fields/new", "profile-field-form")
    new.fill("name", "department").fill("label", "Department").fill("max_length", "20").fill("group", "Work")
    assert new.submit(client).status_code == 303
    assert 'id="field-row-department"' in text(client.get("/profile-fields"))
    bob = make_user("bob", password=None)
    sso.user.update_user_by_id(CID, bob["user_id"], {"department": "Engineering"}, admin_ust, APP, ADDR)

    edit = form(client, "/profile-fields/department", "profile-field-form")
    edit.fill("max_length", "5")
    answer = edit.submit(client)
    html = text(answer)
    assert answer.status_code == 409 and "1 user holds a value" in html and ">bob</a>" in html
    assert shown(sso, admin_ust, bob["user_id"])["department"] == "Engineering"
    again = forms(html)["profile-field-form"]  # the dry run's page: the same values, and the clear box
    again.check("clear_violations")
    assert again.submit(client).status_code == 303
    assert shown(sso, admin_ust, bob["user_id"])["department"] is None

    token = csrf_token(text(client.get("/profile-fields")))
    assert client.post("/profile-fields/department/retire", data={"csrf_token": token}).status_code == 303
    assert 'id="field-department"' not in text(client.get(f"/users/{bob['user_id']}"))
    assert "Bring back" in text(client.get("/profile-fields"))
    wrong = client.post("/profile-fields/department/delete", data={"csrf_token": token, "confirm": "Department"})
    assert wrong.status_code == 422 and "type the field" in text(wrong)
    deleted = client.post("/profile-fields/department/delete", data={"csrf_token": token, "confirm": "department"})
    assert deleted.status_code == 303 and 'id="no-profile-fields"' in text(client.get("/profile-fields"))


def test_a_regular_user_gets_403_on_the_profile_fields_pages(alice_client):
    client, _ = alice_client
    assert client.get("/profile-fields").status_code == 403
    assert client.get("/profile-fields/new").status_code == 403
    token = csrf_token(text(client.get("/account")))
    assert client.post("/profile-fields/new", data={"csrf_token": token, "name": "x"}).status_code == 403


def test_create_user_asks_for_the_profile_fields_and_says_which_required_one_is_missing(admin_client, sso, admin_ust):
    client, _ = admin_client
    admin = sso.serve(Call(CID, admin_ust, APP, ADDR))
    admin.define_profile_field({"name": "badge", "label": "Badge", "type": "integer", "required": True})
    admin.define_profile_field({"name": "team", "label": "Team", "type": "choice", "options": ["red", "blue"]})
    new = form(client, "/users/new", "create-form")
    new.fill("username", "newbie").fill("team", "blue")
    answer = new.submit(client)
    assert answer.status_code == 422 and "is required" in element(text(answer), "field-badge")
    new = forms(text(answer))["create-form"]
    new.fill("badge", "7")
    assert new.submit(client).status_code == 303
    made = sso.user.search(CID, {"username": "newbie"}, admin_ust, APP, ADDR)["result"][0]
    assert (made["badge"], made["team"]) == (7, "blue")


def test_the_history_pages_name_a_profile_field_by_its_label(admin_client, alice_client, sso, admin_ust):
    admin = sso.serve(Call("c", admin_ust, "CRM", "::1"))
    admin.define_profile_field({"name": "desk_no", "label": "Desk number", "type": "integer"})
    client, _ = admin_client
    mine, alice = alice_client
    sso.user.update_user_by_id("c", alice["user_id"], {"desk_no": 7}, admin_ust, "CRM", "::1")
    for reader, path in ((client, f"/users/{alice['user_id']}/history"), (mine, "/account/history")):
        html = text(reader.get(path))
        assert '<span class="attr">Desk number</span>' in html and "Desk no<" not in html, path
