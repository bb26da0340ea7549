"""Inputs no database can store (NUL, lone surrogates, huge strings) give an SSOError or are made safe: never a
crash."""

from __future__ import annotations

from webapp.sso import Code, Kind

from .helpers import APP, PASSWORD, audit_of, refused, session_rows

HOSTILE = ["nul\x00here", "lone\ud800surrogate", "bell\x07", "é" * 5000]


def test_hostile_request_metadata_is_stored_safely_and_the_call_succeeds(sso, admin, make_user):
    _, admin_ust = admin
    bob = make_user("bob")
    for number, bad in enumerate(HOSTILE):
        result = sso.user.login(bad, "bob", PASSWORD, APP, bad, user_agent=bad)
        sso.user.update_current_user(bad, {"first_name": f"Bob {number}"}, result.ust, APP, bad, user_agent=bad)
        created = sso.user.create_user(bad, {"username": f"carol{number}"}, admin_ust, APP, bad, user_agent=bad)
        assert created["creation_ctx"]["remote_addr"] is not None
    stored = session_rows(sso, bob["user_id"])
    for text in (
        *(row[key] for row in stored for key in ("remote_addr", "user_agent")),
        *(
            record[key]
            for record in audit_of(sso)
            for key in ("cid", "remote_addr", "user_agent")
            if record[key] is not None
        ),
    ):
        assert "\x00" not in text and "\x07" not in text and "\ud800" not in text
        assert len(text) <= 1024


def test_a_failed_login_from_a_hostile_address_is_counted_not_crashed_on(make_app):
    sso = make_app(SSO_LOGIN_MAX_FAILURES=1, SSO_LOGIN_MAX_FAILURES_PER_ADDRESS=1).extensions["sso"]
    for number, bad in enumerate(HOSTILE):
        sso.operator.create_local(f"bob{number}", PASSWORD, super_user=False)
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.login("cid", f"nobody{number}", "Wrong-Password-1", APP, bad)
        with refused(Kind.throttled, Code.auth_invalid):
            sso.user.login("cid", f"bob{number}", PASSWORD, APP, bad)  # paused: same address


def test_a_hostile_username_at_login_is_just_a_failed_login(sso, make_user):
    make_user("bob")
    for bad in HOSTILE:
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.login("cid", bad, PASSWORD, APP, "127.0.0.1")


def test_a_hostile_user_id_names_no_user(sso, admin):
    _, ust = admin
    for bad in (*HOSTILE, 42, ["zusr"], {"a": 1}):
        check_names_no_user(sso, ust, bad)


def check_names_no_user(sso, ust, bad) -> None:
    with refused(Kind.not_found, Code.user_id_unknown):
        sso.user.get_user_by_id("cid", bad, ust, APP, "127.0.0.1")
    with refused(Kind.not_found, Code.user_id_unknown):
        sso.user.update_user_by_id("cid", bad, {"first_name": "X"}, ust, APP, "127.0.0.1")
    with refused(Kind.not_found, Code.user_id_unknown):
        sso.user.change_password("cid", {"user_id": bad, "new_password": "Good-Password-9"}, ust, APP, "127.0.0.1")
    assert sso.user.history("cid", bad, ust, APP, "127.0.0.1") == []


def test_hostile_search_criteria_are_refused_as_invalid(sso, admin):
    _, ust = admin
    for bad in HOSTILE[:3]:
        with refused(Kind.invalid, Code.invalid_input) as info:
            sso.user.search(
                "cid",
                {"username": bad, "email": bad, "first_name": bad, "q": bad, "user_id": bad},
                ust,
                APP,
                "127.0.0.1",
            )
        assert set(info.value.errors) == {"username", "email", "first_name", "q", "user_id"}
