"""The user list as CSV (SPEC §16, §17), through the service on SQLite and PostgreSQL: the search's filter
honoured, every match (batch after batch, in username order), the list's columns and the profile fields the
caller may view, never a sensitive one; `users.view` needed."""

from __future__ import annotations

import csv
import io

import pytest

from webapp.sso import Call, Code, Kind
from webapp.sso.accounts import list_export

from .helpers import ADDR, APP, CID, refused


@pytest.fixture
def admin_service(sso, admin):
    service = sso.serve(Call(CID, admin[1], APP, ADDR))
    service.create_role({"name": "hr", "description": "HR", "permissions": ["users.view"]})  # `grade`'s view set
    for definition in (
        {"name": "department", "label": "Department", "type": "text", "searchable": True},
        {"name": "skills", "label": "Skills", "type": "choices", "options": ["go", "py"]},
        {"name": "start_date", "label": "Start date", "type": "date"},
        {"name": "remote", "label": "Remote", "type": "bool"},
        {"name": "salary", "label": "Salary", "type": "integer", "sensitive": True},
        {"name": "grade", "label": "Grade", "type": "integer", "view": ["hr"]},
        {"name": "old_code", "label": "Old code", "type": "text"},
    ):
        service.define_profile_field(definition)
    return service


def exported(service, criteria=None) -> list[dict[str, str]]:
    text = "".join(service.export_users(criteria))
    assert text.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_the_list_columns_and_the_viewable_profile_fields_never_a_sensitive_one(sso, admin_service, admin):
    bob = sso.operator.create_local("bob", None, super_user=False)
    admin_service.update_user(
        bob["user_id"],
        {
            "display_name": "=HYPERLINK(1)",
            "department": "Sales",
            "skills": ["py", "go"],
            "start_date": "2026-03-01",
            "remote": False,
            "salary": 99000,
            "grade": 4,
            "old_code": "x",
        },
    )
    admin_service.retire_profile_field("old_code")
    rows = exported(admin_service)
    assert list(rows[0]) == [*list_export.COLUMNS, "department", "skills", "start_date", "remote", "grade"]
    assert [row["username"] for row in rows] == ["admin", "bob"]
    row = rows[1]
    assert row["user_id"] == bob["user_id"] and row["department"] == "Sales" and row["grade"] == "4"
    assert row["skills"] == '["go", "py"]' and row["start_date"] == "2026-03-01" and row["remote"] == "false"
    assert row["display_name"] == "'=HYPERLINK(1)"  # a spreadsheet would run it: quoted
    assert row["is_locked"] == "false" and row["sign_up_time"].endswith("+00:00")
    assert rows[0]["department"] == "" and rows[0]["last_sign_in"]  # not set: empty; the admin signed in
    assert "99000" not in "".join(admin_service.export_users(None))


def test_the_search_filter_is_honoured_and_every_match_comes_batch_after_batch(sso, admin_service, monkeypatch):
    monkeypatch.setattr(list_export, "BATCH", 3)  # several batches from a few users
    for number in range(8):
        user = sso.operator.create_local(f"user{number}", None, super_user=False)
        admin_service.update_user(user["user_id"], {"department": "Sales" if number % 2 else "Legal"})
    sales = exported(admin_service, {"department": "sales"})
    assert [row["username"] for row in sales] == ["user1", "user3", "user5", "user7"]
    everyone = exported(admin_service, {"q": "user", "cur_page": 2, "page_size": 1, "order_by": "email"})
    assert [row["username"] for row in everyone] == [f"user{n}" for n in range(8)]  # paging and sort ignored
    assert [row["username"] for row in exported(admin_service, {"department": None})] == ["admin"]
    lacking = exported(admin_service, {"lacking_required": True})
    assert lacking == []  # no required field


def test_a_bad_criterion_is_refused_before_the_first_line_naming_it(admin_service):
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.export_users({"department": 7, "is_locked": "yes"})
    assert set(info.value.errors) == {"department", "is_locked"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.export_users({"salary": 1})  # not searchable: not a criterion
    assert set(info.value.errors) == {"salary"}


def test_a_role_sees_its_fields_and_a_caller_without_users_view_is_refused(sso, admin_service, login):
    hr_user = sso.operator.create_local("hrperson", "Correct-Horse-9", super_user=False)
    admin_service.grant_role(hr_user["user_id"], "hr")
    staff = sso.operator.create_local("staff", None, super_user=False)
    admin_service.update_user(staff["user_id"], {"grade": 2, "department": "Ops"})
    hr = sso.serve(Call(CID, login("hrperson"), APP, ADDR))
    rows = exported(hr)
    assert "grade" in rows[0] and "department" not in rows[0] and "salary" not in rows[0]  # (department: self)
    assert [row["grade"] for row in rows if row["username"] == "staff"] == ["2"]
    sso.operator.create_local("plain", "Correct-Horse-9", super_user=False)
    plain = sso.serve(Call(CID, login("plain"), APP, ADDR))
    with refused(Kind.forbidden, Code.auth_invalid):
        plain.export_users({})
