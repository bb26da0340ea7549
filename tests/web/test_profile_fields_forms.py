"""SPEC §16 on the console: each profile field drawn from its type, saved like a built-in, merged or in conflict."""

from __future__ import annotations

import re

import pytest

from webapp.sso import Call

from .html_forms import form, text

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


def test_my_account_shows_only_fields_i_may_edit_and_saves_them(alice_client, defined, sso, admin_ust):
    client, alice = alice_client
    html = text(client.get("/account"))
    assert 'id="field-department"' in html and 'id="field-grade"' not in html
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
