"""SPEC §10 over real HTTP (gunicorn, SQLite): a Zato-style client (a JSON body, no Content-Type) sets TOTP
keys with PATCH /zato/sso/user/totp and logs in with and without `totp_code`."""

from __future__ import annotations

import pyotp
import pytest

from ..conftest import PASSWORD
from .conftest import APP, start_site, unique
from .helpers import ok, refused

KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    """One live server for this module, on SQLite."""
    yield from start_site("sqlite", request, tmp_path_factory)


def create_user(site) -> dict:
    """A user created and approved over the wire, as Zato's own tests make them."""
    username = unique("totp")
    user = ok(
        site.api.call(
            "POST",
            "user",
            {
                "ust": site.admin_ust,
                "current_app": APP,
                "username": username,
                "password": PASSWORD,
                "auto_approve": True,
            },
        )
    )
    assert "totp_key" not in user and user["is_totp_enabled"] is False
    return user


def log_in(site, username: str, **extra):
    return site.api.call(
        "POST", "user/login", {"username": username, "password": PASSWORD, "current_app": APP, **extra}
    )


def test_the_requests_of_this_client_carry_no_content_type(site):
    response = log_in(site, site.admin["username"])
    assert "Content-Type" not in response.request.headers
    ok(response)


def test_a_key_set_over_the_wire_then_login_asks_for_the_code_and_takes_it_once(site):
    user = create_user(site)
    answer = ok(
        site.api.call(
            "PATCH",
            "user/totp",
            {
                "ust": site.admin_ust,
                "current_app": APP,
                "user_id": user["user_id"],
                "totp_key": KEY.lower(),
                "totp_label": "Work phone",
            },
        )
    )
    assert "totp_key" not in answer
    ok(
        site.api.call(
            "PATCH",
            "user",
            {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"], "is_totp_enabled": True},
        )
    )
    shown = ok(site.api.call("GET", "user", {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"]}))
    assert (shown["is_totp_enabled"], shown["totp_label"]) == (True, "Work phone") and "totp_key" not in shown

    refused(log_in(site, user["username"]), 403, "E005008")
    refused(log_in(site, user["username"], totp_code="invalid"), 403, "E005001")
    current = pyotp.TOTP(KEY).now()
    body = ok(log_in(site, user["username"], totp_code=current))
    own = ok(site.api.call("GET", "user", {"ust": body["ust"], "current_app": APP}))
    assert own["user_id"] == user["user_id"] and "totp_key" not in own
    refused(log_in(site, user["username"], totp_code=current), 403, "E005001")


def test_zatos_own_flow_enables_totp_and_sets_the_key_in_one_update(site):
    user = create_user(site)
    ust = ok(log_in(site, user["username"]))["ust"]
    ok(site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "is_totp_enabled": True, "totp_key": KEY}))
    refused(log_in(site, user["username"]), 403, "E005008")
    assert ok(log_in(site, user["username"], totp_code=pyotp.TOTP(KEY).now()))["ust"]


def test_an_empty_key_asks_the_server_for_a_new_one_which_is_answered_once(site):
    user = create_user(site)
    ust = ok(log_in(site, user["username"]))["ust"]
    generated = ok(
        site.api.call("PATCH", "user/totp", {"ust": ust, "current_app": APP, "totp_key": "", "totp_label": None})
    )["totp_key"]
    assert len(generated) == 32 and generated != KEY
    ok(site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "is_totp_enabled": True}))
    assert ok(log_in(site, user["username"], totp_code=pyotp.TOTP(generated).now()))["ust"]


def test_a_recovery_code_stands_in_for_the_totp_code_once(site):
    user = create_user(site)
    ust = ok(log_in(site, user["username"]))["ust"]
    codes = site.sso.user.enable_totp(
        "test", {"password": PASSWORD, "totp_key": KEY, "totp_code": pyotp.TOTP(KEY).now()}, ust, APP, "127.0.0.1"
    )
    ok(log_in(site, user["username"], totp_code=codes[3]))
    refused(log_in(site, user["username"], totp_code=codes[3]), 403, "E005001")


def test_bad_totp_calls_name_the_field_and_write_nothing(site):
    user = create_user(site)
    other = create_user(site)
    ust = ok(log_in(site, user["username"]))["ust"]
    body = refused(
        site.api.call(
            "PATCH", "user/totp", {"ust": ust, "current_app": APP, "totp_key": "not base32!", "totp_label": 7}
        ),
        422,
        "E008002",
    )
    assert set(body["errors"]) == {"totp_key", "totp_label"} and "not base32" not in str(body["errors"])
    body = refused(
        site.api.call("PATCH", "user/totp", {"ust": ust, "current_app": APP, "totp_key": KEY}), 400, "E008002"
    )
    assert body["errors"] == {"totp_label": "is required"}
    refused(
        site.api.call(
            "PATCH",
            "user/totp",
            {"ust": ust, "current_app": APP, "user_id": other["user_id"], "totp_key": KEY, "totp_label": None},
        ),
        403,
        "E008002",
    )
    body = refused(
        site.api.call(
            "PATCH",
            "user/totp",
            {"ust": ust, "current_app": APP, "totp_key": KEY, "totp_label": None, "is_totp_enabled": True},
        ),
        422,
        "E008002",
    )
    assert set(body["errors"]) == {"is_totp_enabled"}
    refused(log_in(site, user["username"], totp_code=["123456"]), 400, "E008002")
    for who in (user, other):
        assert site.get(who["user_id"])["version"] == 1
