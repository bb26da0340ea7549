"""SPEC §16 on the console, as a product tryout found it: untouched fields, forged posts, messages."""

from __future__ import annotations

import re

import pytest

from webapp.sso import Call

from ..conftest import PASSWORD
from .conftest import web_login
from .html_forms import csrf_token, form, text

CID, APP, ADDR = "cid", "CRM", "::1"


@pytest.fixture
def admin(sso, admin_ust):
    return sso.serve(Call(CID, admin_ust, APP, ADDR))


def shown(sso, admin_ust, user_id):
    return sso.user.get_user_by_id(CID, user_id, admin_ust, APP, ADDR)


@pytest.mark.parametrize("path_of", ["manage", "account"])
def test_an_untouched_non_nullable_text_field_without_a_value_is_not_written(
    path_of, admin_client, alice_client, admin, sso, admin_ust
):
    admin.define_profile_field(
        {
            "name": "badge",
            "label": "Badge",
            "type": "text",
            "nullable": False,
            "required": True,
            "regex": "^B[0-9]+$",
            "regex_message": "must look like B123",
        }
    )
    admin.define_profile_field({"name": "nickname", "label": "Nickname", "type": "text", "nullable": False})
    alice = alice_client[1]
    client, path, form_id = (
        (admin_client[0], f"/users/{alice['user_id']}", "user-form")
        if path_of == "manage"
        else (alice_client[0], "/account", "account-form")
    )
    before = shown(sso, admin_ust, alice["user_id"])
    assert before["badge"] is None and before["nickname"] is None
    edit = form(client, path, form_id)
    assert 'name="clear_nickname"' not in text(client.get(path))
    edit.fill("first_name", "Alicia")
    answer = edit.submit(client)
    assert answer.status_code == 303, text(answer)
    after = shown(sso, admin_ust, alice["user_id"])
    assert (after["first_name"], after["badge"], after["nickname"]) == ("Alicia", None, None)
    history = text(admin_client[0].get(f"/users/{alice['user_id']}/history"))
    assert "Nickname" not in history and "Badge" not in history


@pytest.mark.parametrize("visible", [False, True])
def test_a_forged_console_post_of_a_field_outside_the_edit_set_is_refused_naming_it(
    visible, app, make_user, admin, sso, admin_ust
):
    admin.define_profile_field(
        {
            "name": "department",
            "label": "Department",
            "type": "text",
            "view": ["helpdesk"] if visible else [],
            "edit": [],
        }
    )
    bob = make_user("bob", password=None)
    make_user("hilda")
    sso.operator.grant_role_local("hilda", "helpdesk")
    client = app.test_client()
    assert web_login(client, "hilda").status_code == 303
    page = text(client.get(f"/users/{bob['user_id']}"))
    answer = client.post(f"/users/{bob['user_id']}", data={"csrf_token": csrf_token(page), "department": "hr"})
    assert answer.status_code == 403 and "Department" in text(answer)
    assert shown(sso, admin_ust, bob["user_id"])["department"] is None

    both = {"csrf_token": csrf_token(page), "department": "hr", "email": "x@example.com"}
    answer = client.post(f"/users/{bob['user_id']}", data=both, headers={"Accept-Language": "de"})
    assert answer.status_code == 403
    assert "Sie dürfen E-Mail, Department nicht ändern" in text(answer), text(answer)
    assert shown(sso, admin_ust, bob["user_id"])["email"] is None

    own = text(client.get("/account"))
    answer = client.post("/account", data={"csrf_token": csrf_token(own), "department": "hr"})
    assert answer.status_code == 403 and "Department" in text(answer)


def test_emptying_a_required_text_field_says_it_is_required(admin_client, make_user, admin, sso, admin_ust):
    admin.define_profile_field(
        {
            "name": "badge",
            "label": "Badge",
            "type": "text",
            "required": True,
            "regex": "^B[0-9]+$",
            "regex_message": "must look like B123",
        }
    )
    client, _ = admin_client
    bob = make_user("bob", password=None)
    sso.user.update_user_by_id(CID, bob["user_id"], {"badge": "B1"}, admin_ust, APP, ADDR)
    path = f"/users/{bob['user_id']}"
    answer = form(client, path, "user-form").fill("badge", "").submit(client)
    assert answer.status_code == 422
    assert "is required" in text(answer) and "B123" not in text(answer)
    assert shown(sso, admin_ust, bob["user_id"])["badge"] == "B1"
    german = form(client, path, "user-form").fill("badge", "").submit(client, headers={"Accept-Language": "de"})
    assert "ist erforderlich" in text(german)


def test_a_value_for_a_field_retired_while_the_form_was_open_is_reported_not_saved(
    admin_client, make_user, admin, sso, admin_ust
):
    admin.define_profile_field({"name": "department", "label": "Department", "type": "text"})
    client, _ = admin_client
    bob = make_user("bob", password=None)
    path = f"/users/{bob['user_id']}"
    edit = form(client, path, "user-form")
    admin.retire_profile_field("department")
    answer = edit.fill("department", "Ops").submit(client, follow_redirects=True)
    html = text(answer)
    assert "Not saved: Department" in html and "retired" in html and "Nothing to save" not in html
    admin.define_profile_field({"name": "floor", "label": "Floor", "type": "integer"})
    edit = form(client, path, "user-form")
    assert edit.value("floor") == ""
    admin.retire_profile_field("floor")  # untouched on the open form: nothing to report
    answer = edit.fill("first_name", "Robert").submit(client, follow_redirects=True)
    assert "Saved: First name" in text(answer) and "retired" not in text(answer)
    stored = shown(sso, admin_ust, bob["user_id"])
    assert stored["first_name"] == "Robert" and "department" not in stored


def test_history_and_the_unchanged_option_show_a_choice_by_its_label(admin_client, make_user, admin, sso, admin_ust):
    admin.define_profile_field(
        {
            "name": "department",
            "label": "Department",
            "type": "choice",
            "options": [{"value": "hr", "label": "Human resources"}, {"value": "ops", "label": "Operations"}],
        }
    )
    admin.define_profile_field(
        {
            "name": "skills",
            "label": "Skills",
            "type": "choices",
            "options": [{"value": "py", "label": "Python"}, {"value": "go", "label": "Go"}],
        }
    )
    client, _ = admin_client
    bob = make_user("bob", password=None)
    sso.user.update_user_by_id(CID, bob["user_id"], {"department": "hr", "skills": ["go", "py"]}, admin_ust, APP, ADDR)
    history = text(client.get(f"/users/{bob['user_id']}/history"))
    assert "Human resources" in history and "Python, Go" in history
    assert ">hr<" not in history and "py, go" not in history
    page = text(client.get(f"/users/{bob['user_id']}"))
    assert "Unchanged (now: Human resources)" in page and "(now: hr)" not in page


def test_manage_user_reports_every_problem_at_once_in_one_summary(admin_client, make_user, admin, sso, admin_ust):
    admin.define_profile_field(
        {
            "name": "employee_no",
            "label": "Employee number",
            "type": "text",
            "regex": "^E[0-9]{4}$",
            "regex_message": "must be E and four digits",
        }
    )
    admin.define_profile_field({"name": "team", "label": "Team", "type": "choice", "options": ["red", "blue"]})
    client, _ = admin_client
    bob = make_user("bob", password=None)
    sso.user.update_user_by_id(CID, bob["user_id"], {"team": "red"}, admin_ust, APP, ADDR)
    edit = form(client, f"/users/{bob['user_id']}", "user-form")
    edit.fill("email", "not-an-address").fill("employee_no", "X1").fill("team", "blue").check("clear_team")
    answer = edit.submit(client)
    html = text(answer)
    assert answer.status_code == 422
    summary = html[html.index('id="field-errors"') :]
    summary = summary[: summary.index("</div>")]
    for label in ("Email", "Employee number", "Team"):
        assert f">{label}</a>" in summary, label
    assert "must be E and four digits" in summary and "either tick" in summary
    assert 'id="form-errors"' not in html and html.count("Not saved.") == 1
    stored = shown(sso, admin_ust, bob["user_id"])
    assert (stored["email"], stored["employee_no"], stored["team"]) == (None, None, "red")


def test_a_field_definitions_audit_shows_only_what_changed_readably_and_links_nowhere_broken(admin_client, sso):
    client, _ = admin_client
    mine = sso.serve(Call(CID, sso.user.login(CID, "admin", PASSWORD, APP, ADDR).ust, APP, ADDR))
    mine.define_profile_field(
        {
            "name": "department",
            "label": "Department",
            "type": "choice",
            "options": [{"value": "sales", "label": "Sales"}, {"value": "hr", "label": "HR"}],
        }
    )
    mine.change_profile_field("department", {"label": "Dept."})
    html = text(client.get("/account/history"))
    assert "Sales (sales), HR (hr)" in html and "{&#39;value&#39;" not in html and "{'value'" not in html
    rows = re.findall(r'<tr id="audit-\d+" class="audit-profile_field">.*?</tr>', html, re.S)
    assert len(rows) == 2
    changed, defined = rows
    assert changed.count('class="attr"') == 1 and "Dept." in changed
    assert "department.regex" not in defined.lower() and "Department.regex" not in defined
    arrow = r'<span class="arrow"[^>]*>→</span><span class="visually-hidden">[^<]*</span>'
    assert not re.search(r'value-null">not set</span>\s*' + arrow + r'\s*<span class="value-null">', defined)
    assert re.search(r'value-null">not set</span>\s*' + arrow + r'\s*<span class="value">Department<', defined)
    assert "/users/profile-schema" not in html and 'href="/profile-fields"' in html
    assert client.get("/profile-fields").status_code == 200


def test_the_dry_run_links_to_the_list_of_exactly_the_affected_users(admin_client, make_user, admin, sso, admin_ust):
    admin.define_profile_field({"name": "department", "label": "Department", "type": "text", "max_length": 20})
    client, _ = admin_client
    for name, department in (("ann", "Engineering"), ("bob", "Ops"), ("cyd", "Marketing"), ("dan", None)):
        user = make_user(name, password=None)
        sso.user.update_user_by_id(CID, user["user_id"], {"department": department}, admin_ust, APP, ADDR)
    edit = form(client, "/profile-fields/department", "profile-field-form")
    answer = edit.fill("max_length", "5").submit(client)
    html = text(answer)
    assert answer.status_code == 409 and "2 users hold a value" in html and "List these users" in html
    link = re.search(r'<a href="([^"]+)" id="dry-run-users">', html)
    assert link is not None
    listed = text(client.get(link.group(1).replace("&amp;", "&")))
    names = set(re.findall(r'<a href="/users/[^"]+"[^>]*>(ann|bob|cyd|dan|admin|root)</a>', listed))
    assert names == {"ann", "cyd"}, names
