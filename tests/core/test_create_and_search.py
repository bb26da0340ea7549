"""SPEC §5 create user and search users (super-users only)."""

from __future__ import annotations

import functools
import operator

import pytest

from webapp.sso import Code, Kind

from .helpers import ADDR, APP, CID, PASSWORD, audit_of, count_users, frozen_clock, refused, row_of


def create(sso, ust, **data):
    return sso.user.create_user(CID, data, ust, APP, ADDR)


def search(sso, ust, **criteria):
    return sso.user.search(CID, criteria, ust, APP, ADDR)


def usernames(result) -> list[str]:
    return [user["username"] for user in result["result"]]


# --- create ---------------------------------------------------------------------------------------------


def test_a_regular_user_cannot_create_users(sso, alice):
    _, ust = alice
    before = count_users(sso)
    with refused(Kind.forbidden, Code.auth_invalid):
        create(sso, ust, username="mallory", auto_approve=True)
    assert count_users(sso) == before


def test_a_username_is_required(sso, admin):
    _, ust = admin
    with refused(Kind.malformed, Code.invalid_input) as info:
        create(sso, ust, email="x@example.com")
    assert list(info.value.errors) == ["username"]
    for bad in (None, "", "a b", 5):
        with refused(Kind.invalid, Code.invalid_input):
            create(sso, ust, username=bad)


def test_a_new_user_waits_for_approval_unless_auto_approved(sso, admin):
    admin_user, ust = admin
    clock = frozen_clock(sso)
    waiting = create(sso, ust, username="bob", password=PASSWORD)
    assert (waiting["approval_status"], waiting["sign_up_status"]) == ("before_decision", "final")
    stored = row_of(sso, waiting["user_id"])  # as Zato: the creating super-user and the time (issue 31 #7)
    assert (stored["approval_status_mod_by"], stored["approval_status_mod_time"]) == (
        admin_user["user_id"],
        clock.now(),
    )
    assert waiting["approval_status_mod_by"] == admin_user["user_id"]
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.login(CID, "bob", PASSWORD, APP, ADDR)
    approved = create(sso, ust, username="carol", password=PASSWORD, auto_approve=True)
    stored = row_of(sso, approved["user_id"])
    assert (stored["approval_status"], stored["approval_status_mod_by"], stored["approval_status_mod_time"]) == (
        "approved",
        admin_user["user_id"],
        clock.now(),
    )
    assert sso.user.login(CID, "carol", PASSWORD, APP, ADDR).status == "ok"


def test_a_new_user_gets_the_attributes_given_and_a_zato_style_id(sso, admin):
    _, ust = admin
    created = create(
        sso,
        ust,
        username="Bob",
        email="bob@example.com",
        display_name="",
        first_name="Bob",
        middle_name=None,
        last_name="Builder",
        password=PASSWORD,
        password_must_change=True,
        auto_approve=True,
    )
    assert created["user_id"].startswith("zusr") and len(created["user_id"]) > 20
    stored = row_of(sso, created["user_id"])
    assert {
        key: stored[key]
        for key in (
            "username",
            "email",
            "display_name",
            "first_name",
            "middle_name",
            "last_name",
            "password_is_set",
            "is_super_user",
            "version",
        )
    } == {
        "username": "Bob",
        "email": "bob@example.com",
        "display_name": "",
        "first_name": "Bob",
        "middle_name": None,
        "last_name": "Builder",
        "password_is_set": True,
        "is_super_user": False,
        "version": 1,
    }
    with refused(Kind.forbidden, Code.password_must_change):
        sso.user.login(CID, "bob", PASSWORD, APP, ADDR)
    record = audit_of(sso, created["user_id"], "create")[0]
    assert record["changes"]["username"] == {"old": None, "new": "Bob"}
    assert PASSWORD not in str(record)


def test_a_user_created_without_a_password_cannot_log_in_until_one_is_set(sso, admin):
    _, ust = admin
    created = create(sso, ust, username="bob", auto_approve=True)
    assert created["password_is_set"] is False
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.login(CID, "bob", PASSWORD, APP, ADDR)
    sso.user.change_password(CID, {"user_id": created["user_id"], "new_password": PASSWORD}, ust, APP, ADDR)
    assert sso.user.login(CID, "bob", PASSWORD, APP, ADDR).status == "ok"


def test_a_created_locked_user_records_who_locked_them(sso, admin):
    admin_user, ust = admin
    created = create(sso, ust, username="bob", is_locked=True, auto_approve=True)
    stored = row_of(sso, created["user_id"])
    assert (stored["is_locked"], stored["locked_by"]) == (True, admin_user["user_id"])
    assert stored["locked_time"] is not None


def test_a_taken_username_in_any_case_cannot_be_created_again(sso, admin, alice):
    _, ust = admin
    before = count_users(sso)
    for name in ("alice", "ALICE", "Admin"):
        with refused(Kind.conflict, Code.username_exists):
            create(sso, ust, username=name)
    assert count_users(sso) == before


def test_the_api_never_creates_super_users_nor_takes_unknown_keys(sso, admin):
    _, ust = admin
    with refused(Kind.invalid, Code.invalid_input) as info:
        create(sso, ust, username="root2", is_super_user=True, approval_status="approved")
    assert set(info.value.errors) == {"is_super_user", "approval_status"}


def test_create_applies_the_update_value_rules_and_the_password_rules(sso, admin):
    _, ust = admin
    with refused(Kind.invalid, Code.invalid_input) as info:
        create(sso, ust, username="bob", email="", first_name="a\x00", is_locked="no", auto_approve="yes")
    assert set(info.value.errors) == {"email", "first_name", "is_locked", "auto_approve"}
    with refused(Kind.invalid, Code.password_too_short):
        create(sso, ust, username="bob", password="short")
    assert search(sso, ust, username="bob")["total"] == 0


# --- search ---------------------------------------------------------------------------------------------


@pytest.fixture
def people(sso, admin):
    """Five users with names to search for; returns the super-user's UST."""
    _, ust = admin
    for username, first, last, email in (
        ("ann", "Ann", "Smith", "ann@example.com"),
        ("anna", "Anna", "Smithson", "anna@example.com"),
        ("bo", "Bo", "Jones", None),
        ("joanne", "Joanne", "Smith", "jo@example.org"),
        ("zed", None, "Zed", "zed@example.com"),
    ):
        create(sso, ust, username=username, first_name=first, last_name=last, email=email)
    return ust


def test_search_matches_username_and_email_exactly_ignoring_case(sso, people):
    assert usernames(search(sso, people, username="ANN")) == ["ann"]
    assert usernames(search(sso, people, email="ANNA@example.COM")) == ["anna"]
    assert usernames(search(sso, people, email="example.com")) == []


def test_search_matches_names_exactly_by_default_or_by_contains(sso, people):
    assert usernames(search(sso, people, first_name="ann")) == ["ann"]
    assert usernames(search(sso, people, first_name="ANN", is_name_exact=False)) == ["ann", "anna", "joanne"]
    assert usernames(search(sso, people, last_name="smith")) == ["ann", "joanne"]


def test_search_combines_names_with_and_or_or(sso, people):
    both = search(sso, people, first_name="ann", last_name="smith", is_name_exact=False)
    assert usernames(both) == ["ann", "anna", "joanne"]
    assert usernames(search(sso, people, first_name="bo", last_name="zed")) == []
    assert usernames(search(sso, people, first_name="bo", last_name="zed", name_op="or")) == ["bo", "zed"]


def test_search_treats_like_wildcards_as_plain_text(sso, people):
    assert usernames(search(sso, people, first_name="%", is_name_exact=False)) == []
    assert usernames(search(sso, people, first_name="_", is_name_exact=False)) == []


def test_search_pages_through_results_in_zato_shape(sso, people):
    first = search(sso, people, page_size=2)
    assert (first["total"], first["num_pages"], first["cur_page"], first["page_size"]) == (6, 3, 1, 2)
    assert (first["has_next_page"], first["has_prev_page"], first["next_page"], first["prev_page"]) == (
        True,
        False,
        2,
        None,
    )
    last = search(sso, people, page_size=2, cur_page=3)
    assert usernames(last) == ["joanne", "zed"]
    assert (last["has_next_page"], last["has_prev_page"], last["next_page"], last["prev_page"]) == (
        False,
        True,
        None,
        2,
    )
    pages = [usernames(search(sso, people, page_size=2, cur_page=page)) for page in (1, 2, 3)]
    assert functools.reduce(operator.iadd, pages, []) == ["admin", "ann", "anna", "bo", "joanne", "zed"]


def test_a_page_size_over_100_is_clamped_to_100(sso, admin):
    _, ust = admin
    for number in range(101):
        create(sso, ust, username=f"user{number:03}")
    result = search(sso, ust, page_size=1000)
    assert (result["page_size"], len(result["result"]), result["total"], result["num_pages"]) == (100, 100, 102, 2)
    assert search(sso, ust)["page_size"] == 50


def test_a_regular_user_cannot_search(sso, alice):
    with refused(Kind.forbidden, Code.auth_invalid):
        search(sso, alice[1], username="alice")


def test_bad_search_criteria_are_refused_all_at_once(sso, admin):
    with refused(Kind.invalid, Code.invalid_input) as info:
        search(sso, admin[1], username=5, name_op="xor", page_size=0, approval_status="maybe")
    assert set(info.value.errors) == {"username", "name_op", "page_size", "approval_status"}
    with refused(Kind.invalid, Code.invalid_input):
        search(sso, admin[1], password="x")
