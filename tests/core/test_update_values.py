"""SPEC §4 step 7: every value check, each refusing with E008002 and writing nothing."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from webapp.sso import Code, Kind, SSOError

from .helpers import ADDR, APP, CID, refused, row_of


@pytest.fixture
def rejects(sso, admin, alice, unchanged):
    """`rejects(data, *fields)`: the super-user's update of alice is refused naming exactly `fields`."""
    _, ust = admin
    user, _ = alice

    def check(data: dict, *fields: str) -> dict:
        nothing_written = unchanged(user["user_id"])
        try:
            sso.user.update_user_by_id(CID, user["user_id"], data, ust, APP, ADDR)
        except SSOError as e:
            error = e
        else:
            pytest.fail(f"accepted {data!r}")
        assert (error.kind, error.sub_status) == (Kind.invalid, [Code.invalid_input]), (data, error)
        assert set(error.errors) == set(fields or data), (data, error.errors)
        nothing_written()
        return error.errors

    return check


@pytest.fixture
def accepts(sso, admin, alice):
    """`accepts(data)`: the super-user's update of alice stores exactly `data`."""
    _, ust = admin
    user, _ = alice

    def check(data: dict) -> dict:
        sso.user.update_user_by_id(CID, user["user_id"], data, ust, APP, ADDR)
        stored = row_of(sso, user["user_id"])
        assert {name: stored[name] for name in data} == data
        return stored

    return check


def test_none_is_refused_for_every_attribute_that_cannot_be_null_and_all_are_named(rejects):
    errors = rejects(
        {
            "username": None,
            "is_locked": None,
            "password_must_change": None,
            "sign_up_status": None,
            "approval_status": None,
        }
    )
    assert all("null" in message for message in errors.values())


def test_none_is_accepted_for_every_nullable_attribute(accepts):
    accepts(
        {
            "email": "a@example.com",
            "display_name": "D",
            "first_name": "F",
            "middle_name": "M",
            "last_name": "L",
            "password_expiry": datetime(2040, 1, 1),
        }
    )
    accepts(
        {
            "email": None,
            "display_name": None,
            "first_name": None,
            "middle_name": None,
            "last_name": None,
            "password_expiry": None,
        }
    )


def test_a_boolean_must_be_a_real_bool(rejects):
    values: tuple[object, ...] = ("yes", "true", 1, 0, "", [], 1.0)
    for value in values:
        rejects({"is_locked": value, "password_must_change": value})


def test_text_must_be_a_string(rejects):
    rejects(
        {"username": 5, "email": 5, "display_name": 5, "first_name": ["A"], "middle_name": b"M", "last_name": {"a": 1}}
    )


def test_an_enum_must_be_one_of_its_values_exactly(rejects, accepts):
    rejects({"sign_up_status": "FINAL", "approval_status": "accepted"})
    rejects({"sign_up_status": "approved", "approval_status": 1})
    rejects({"approval_status": " approved"})
    accepts({"sign_up_status": "before_confirmation", "approval_status": "before_decision"})


def test_a_bad_datetime_is_refused_not_crashed_on(rejects):
    for value in (
        "not a date",
        "",
        "2030-13-01T00:00:00",
        "31/01/2030",
        1893456000,
        date(2030, 1, 31),
        [2030, 1, 31],
        True,
    ):
        rejects({"password_expiry": value})


def test_an_aware_datetime_at_the_edge_of_time_is_refused_not_crashed_on(rejects):
    from datetime import timedelta

    east = timezone(timedelta(hours=5))
    rejects({"password_expiry": datetime(1, 1, 1, 1, 0, tzinfo=east)})
    rejects({"password_expiry": "0001-01-01T01:00:00+05:00"})


def test_text_longer_than_its_limit_is_refused_and_text_at_the_limit_accepted(rejects, accepts):
    local = "a" * 64
    long_email = f"{local}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com"[:254]
    rejects(
        {
            "username": "u" * 129,
            "display_name": "d" * 257,
            "first_name": "f" * 257,
            "middle_name": "m" * 257,
            "last_name": "l" * 257,
            "email": long_email + "x",
        }
    )
    accepts(
        {
            "username": "u" * 128,
            "display_name": "d" * 256,
            "first_name": "é" * 256,
            "middle_name": "m" * 256,
            "last_name": "😀" * 256,
        }
    )


def test_nul_control_characters_and_lone_surrogates_are_refused_in_every_text(rejects):
    for bad in (
        "a\x00b",
        "line\nbreak",
        "tab\there",
        "bell\x07",
        "del\x7f",
        "nel\x85",
        "lone \ud800 surrogate",
        "\udfff",
    ):
        errors = rejects(
            {
                "username": bad.replace(" ", ""),
                "display_name": bad,
                "first_name": bad,
                "middle_name": bad,
                "last_name": bad,
                "email": f"x{bad}@example.com".replace(" ", ""),
            }
        )
        assert errors["display_name"].startswith("must not contain")


def test_unicode_letters_and_emoji_are_kept_exactly(accepts):
    accepts({"display_name": "Zoë 😀 Ñúñez", "first_name": "Ærøskøbing", "last_name": "李"})


def test_an_invalid_email_is_refused(rejects):
    for email in (
        "no-at-sign",
        "a@",
        "@example.com",
        "a b@example.com",
        "a@@example.com",
        "a@example..com",
        " a@example.com",
        "=?utf-8?q?spy=40evil.example=2C_eve9?=@example.com",  # an encoded word: shown as two recipients
        "a=?x?=@example.com",
    ):
        rejects({"email": email})


def test_an_empty_email_is_refused_with_a_hint_to_clear_it_instead(rejects, accepts):
    errors = rejects({"email": ""})
    assert "clear" in errors["email"]
    accepts({"email": None})


def test_a_username_that_is_empty_or_has_whitespace_is_refused(rejects):
    for username in ("", " ", "a b", "alice ", " alice", "a\u00a0b", "a\u2003b", "a\u3000b"):
        rejects({"username": username})


def test_every_offending_field_is_reported_at_once_with_one_code(rejects):
    errors = rejects(
        {"email": "nope", "display_name": 5, "is_locked": "yes", "password_expiry": "soon", "first_name": "ok"},
        "email",
        "display_name",
        "is_locked",
        "password_expiry",
    )
    assert all(isinstance(message, str) and message for message in errors.values())


def test_a_regular_user_gets_the_same_value_checks_on_their_own_account(sso, alice, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_current_user(CID, {"email": "", "username": "a b", "display_name": None}, ust, APP, ADDR)
    assert set(info.value.errors) == {"email", "username"}
    nothing_written()
