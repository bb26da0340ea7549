"""SPEC §16 on the console without JavaScript (Flask test client): sign-up and New user ask for the required
profile fields and name every mistake at once; My account shows the fields one may view but not edit, read-only."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from webapp import create_app
from webapp.sso import Call

from ..conftest import PASSWORD
from ..conftest import app_config as config_for
from .conftest import web_login
from .html_forms import form, text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
CID, APP, ADDR = "cid", "CRM", "::1"


@pytest.fixture
def app(db_url):
    application = create_app(config_for(db_url, SSO_SIGNUP_APPS=["Console"], SSO_SIGNUP_APPROVAL_NEEDED=False))
    yield application
    application.extensions["sso_engine"].dispose()


@pytest.fixture
def defined(sso, admin_ust):
    admin = sso.serve(Call(CID, admin_ust, APP, ADDR))
    for definition in (
        {
            "name": "badge",
            "label": "Badge",
            "type": "text",
            "required": True,
            "regex": "B[0-9]+",
            "regex_message": "must be B and digits",
            "description": "On your card.",
        },
        {"name": "team", "label": "Team", "type": "choice", "options": ["red", "blue"], "required": True},
        {"name": "grade", "label": "Grade", "type": "integer", "required": True, "edit": []},  # admins only
        {"name": "nickname", "label": "Nickname", "type": "text"},  # optional: not asked at sign-up
        {"name": "employee_no", "label": "Employee number", "type": "text", "edit": []},  # I may only view it
        {"name": "salary", "label": "Salary", "type": "integer", "view": [], "edit": []},  # I may not even see it
    ):
        admin.define_profile_field(definition)
    return admin


def found(sso, admin_ust, username: str) -> dict:
    result = sso.user.search(CID, {"username": username}, admin_ust, APP, ADDR)["result"]
    return result[0] if result else {}


def test_sign_up_asks_for_the_required_fields_and_names_every_mistake_at_once(client, defined, sso, admin_ust):
    html = text(client.get("/signup"))
    assert 'id="f-badge"' in html and 'id="f-team"' in html
    assert 'id="f-grade"' not in html and 'id="f-nickname"' not in html and 'id="f-salary"' not in html
    assert "Required. On your card." in html
    page = form(client, "/signup", "signup-form")
    page.fill("username", "newbie").fill("email", "newbie@example.com").fill("password", PASSWORD)
    page.fill("confirm_password", PASSWORD + "x").fill("badge", "X1")
    answer = page.submit(client)
    assert answer.status_code == 422
    html = text(answer)
    summary = html[html.index('id="field-errors"') :]
    assert "Badge</a>: must be B and digits" in summary and "Team</a>: is required" in summary
    assert "Password again</a>: does not match the password" in summary
    assert 'value="X1"' in html  # what was typed stays
    assert found(sso, admin_ust, "newbie") == {}

    page = form(client, "/signup", "signup-form")
    page.fill("username", "newbie").fill("email", "newbie@example.com").fill("password", PASSWORD)
    page.fill("confirm_password", PASSWORD).fill("badge", "B42").fill("team", "blue")
    answer = page.submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/signup/sent"
    user = found(sso, admin_ust, "newbie")
    assert user["badge"] == "B42" and user["team"] == "blue" and user["grade"] is None


def test_a_sign_up_field_is_checked_inline_by_its_rule_and_only_while_sign_up_is_open(client, defined, db_url):
    token = form(client, "/signup", "signup-form").data()
    csrf = dict(token)["csrf_token"]
    answer = client.post("/validate-signup/badge", data={"badge": "", "csrf_token": csrf})
    assert answer.status_code == 200 and "is required" in text(answer)
    answer = client.post("/validate-signup/badge", data={"badge": "Z", "csrf_token": csrf})
    assert "must be B and digits" in text(answer) and 'value="Z"' in text(answer)
    assert "is required" not in text(client.post("/validate-signup/badge", data={"badge": "B7", "csrf_token": csrf}))
    for name in ("grade", "nickname", "username", "nothing"):  # only what the sign-up form asks
        assert client.post(f"/validate-signup/{name}", data={name: "1", "csrf_token": csrf}).status_code == 404
    closed = create_app(config_for(db_url)).test_client()
    assert closed.post("/validate-signup/badge", data={"badge": "B1"}).status_code in (400, 404)


def test_new_user_asks_for_every_required_field_and_names_them_with_the_rest(admin_client, defined, make_user):
    client, _ = admin_client
    make_user("taken")
    html = text(client.get("/users/new"))
    for name in ("badge", "team", "grade"):
        assert f'id="f-{name}"' in html
    assert ">Not set<" in html  # a new user's select starts at "not set", not "unchanged"
    page = form(client, "/users/new", "create-form").fill("username", "taken").fill("badge", "B1")
    answer = page.submit(client)
    assert answer.status_code == 422
    summary = text(answer)[text(answer).index('id="field-errors"') :]
    for label, message in (("Username", "is already taken"), ("Team", "is required"), ("Grade", "is required")):
        assert f"{label}</a>: {message}" in summary
    page = form(client, "/users/new", "create-form").fill("username", "fresh").fill("badge", "B1")
    answer = page.fill("team", "red").fill("grade", "3").submit(client)
    assert answer.status_code == 303


def test_my_account_shows_the_fields_i_may_only_view_read_only(app, defined, sso, admin_ust, make_user):
    bob = make_user("bob")
    defined.update_user(bob["user_id"], {"employee_no": "E123", "salary": 5, "badge": "B9", "team": "red", "grade": 1})
    client = app.test_client()
    assert web_login(client, "bob").status_code == 303
    html = text(client.get("/account"))
    view_only = html[html.rindex("<div", 0, html.index('id="field-employee_no"')) :][:600]
    assert "field-view-only" in view_only and "E123" in view_only and "(view only)" in view_only
    assert 'name="employee_no"' not in html and 'name="clear_employee_no"' not in html
    assert 'id="field-grade"' in html and 'name="grade"' not in html  # required, but only administrators edit it
    assert 'id="f-badge"' in html and "salary" not in html
    account = form(client, "/account", "account-form")
    assert "employee_no" not in dict(account.data())
    crafted = [*account.data(), ("employee_no", "E999")]
    answer = client.post("/account", data=MultiDict(crafted))
    assert answer.status_code == 403 and "Employee number" in text(answer)
    assert found(sso, admin_ust, "bob")["employee_no"] == "E123"
    answer = form(client, "/account", "account-form").fill("badge", "B10").submit(client)
    assert answer.status_code == 303 and found(sso, admin_ust, "bob")["badge"] == "B10"


def test_manage_user_shows_a_field_the_role_may_view_but_not_edit_read_only(app, sso, admin_ust, make_user):
    admin = sso.serve(Call(CID, admin_ust, APP, ADDR))
    admin.create_role({"name": "hr", "description": "HR", "permissions": ["users.view", "users.edit"]})
    admin.define_profile_field({"name": "grade", "label": "Grade", "type": "integer", "view": ["hr"], "edit": []})
    admin.define_profile_field({"name": "team", "label": "Team", "type": "text", "view": ["hr"], "edit": ["hr"]})
    hr = make_user("hrperson")
    admin.grant_role(hr["user_id"], "hr")
    staff = make_user("staff")
    admin.update_user(staff["user_id"], {"grade": 4, "team": "blue"})
    client = app.test_client()
    assert web_login(client, "hrperson").status_code == 303
    html = text(client.get(f"/users/{staff['user_id']}"))
    grade = html[html.rindex("<div", 0, html.index('id="field-grade"')) :][:600]
    assert "field-view-only" in grade and "(view only)" in grade
    assert re.search(r'id="f-grade"[^>]*>\s*(<[^>]+>\s*)*4\b', grade), grade
    assert 'name="grade"' not in html and 'name="team"' in html
    edit = form(client, f"/users/{staff['user_id']}", "user-form")
    answer = client.post(f"/users/{staff['user_id']}", data=MultiDict([*edit.data(), ("grade", "9")]))
    assert answer.status_code == 403 and "Grade" in text(answer)
    answer = form(client, f"/users/{staff['user_id']}", "user-form").fill("team", "red").submit(client)
    assert answer.status_code == 303
    shown = found(sso, admin_ust, "staff")
    assert shown["grade"] == 4 and shown["team"] == "red"


def test_the_list_and_user_search_find_the_users_lacking_a_required_field(app, admin_client, defined, make_user):
    client, admin = admin_client
    complete, partial = make_user("complete"), make_user("partial")
    defined.update_user(complete["user_id"], {"badge": "B1", "team": "red", "grade": 1})
    defined.update_user(partial["user_id"], {"badge": "B2", "team": "red"})  # no grade (only admins edit it)
    html = text(client.get("/users", query_string={"lacking": "yes", "size": "100"}))
    assert 'id="lacking" name="lacking" value="yes" checked' in html
    listed = set(re.findall(r'id="user-row-([a-z0-9]+)"', html))
    assert partial["user_id"] in listed and admin["user_id"] in listed and complete["user_id"] not in listed
    ust = app.extensions["sso"].user.login(CID, "admin", PASSWORD, APP, ADDR).ust
    answer = client.get("/zato/sso/user/search", json={"ust": ust, "current_app": APP, "lacking_required": True})
    names = {user["username"] for user in answer.get_json()["result"]}
    assert answer.status_code == 200 and "partial" in names and "complete" not in names
    refused = client.get("/zato/sso/user/search", json={"ust": ust, "current_app": APP, "lacking_required": "yes"})
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["lacking_required"]
