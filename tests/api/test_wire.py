"""Fine-grained request reading and error mapping, through Flask's test client (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from webapp import create_app
from webapp.api import responses
from webapp.api.wire import query_value
from webapp.sso.kernel.errors import Kind

from ..conftest import PASSWORD
from ..conftest import app_config as config_for
from .conftest import APP


class Client:
    """The in-process counterpart of the live client: raw JSON bodies, no Content-Type."""

    def __init__(self, app):
        self.flask = app.test_client()

    def call(self, method, path, body=None, *, raw=None, headers=None, query_string=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        response = self.flask.open(
            "/zato/sso/" + path, method=method, data=data, headers=headers or {}, query_string=query_string
        )
        assert response.status_code < 500, response.get_data(as_text=True)
        return response


@pytest.fixture
def api(app):
    return Client(app)


def answer(response, http_status, *codes):
    assert response.status_code == http_status, response.get_data(as_text=True)
    body = response.get_json(force=True)
    assert body["status"] == ("error" if http_status >= 400 else "ok")
    if http_status >= 400:
        assert body["sub_status"] == list(codes)
    return body


def test_every_kind_of_service_error_has_its_http_status():
    kinds = {value for name, value in vars(Kind).items() if not name.startswith("_")}
    assert set(responses.HTTP_STATUS) == kinds
    assert responses.HTTP_STATUS == {
        "malformed": 400,
        "invalid": 422,
        "unauthenticated": 401,
        "forbidden": 403,
        "not_found": 404,
        "conflict": 409,
        "precondition": 412,
        "throttled": 429,
        "unavailable": 503,
        "missing": 400,
        "rate_limited": 429,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("7", 7),
        ("-1.5", -1.5),
        ('"123"', "123"),
        ("alice", "alice"),
        ("007", "007"),
        ("[1]", "[1]"),
        ("NaN", "NaN"),
        ("1e999", "1e999"),
        ("", ""),
    ],
)
def test_query_values_are_typed_as_json_would_type_them(text, value):
    assert query_value(text) == value and type(query_value(text)) is type(value)


def test_json_that_is_too_deep_too_large_a_number_or_duplicated_is_400(api, alice):
    _, ust = alice
    headers = {"Authorization": f"Bearer {ust}"}
    for raw in (
        "[" * 30_000 + "]" * 30_000,
        '{"current_app": "CRM", "display_name": 1e400}',
        '{"current_app": "CRM", "cur_page": ' + "9" * 5000 + "}",
        '{"current_app": "CRM", "email": Infinity}',
    ):
        answer(api.call("PATCH", "user", raw=raw, headers=headers), 400, "E008002")


def test_a_body_with_a_utf8_bom_is_read(api, alice):
    _, ust = alice
    raw = "\ufeff" + json.dumps({"ust": ust, "current_app": APP})
    answer(api.call("GET", "user", raw=raw.encode()), 200)


def test_an_empty_body_is_an_empty_object(api, alice):
    _, ust = alice
    body = answer(api.call("GET", "user", raw=b"", headers={"Authorization": f"Bearer {ust}"}), 400, "E008002")
    assert body["errors"] == {"current_app": "is required"}


def test_a_body_of_whitespace_alone_is_not_json(api, alice):
    # found by the fuzzer: whitespace (a vertical tab, then JSON's own) was read as no body
    _, ust = alice
    headers = {"Authorization": f"Bearer {ust}"}
    for raw in (b" ", b" \t\r\n", b"\x0b", b"\x0c", b" \x0b "):
        body = answer(api.call("GET", f"user?current_app={APP}", raw=raw, headers=headers), 400, "E008002")
        assert body["errors"] == {"body": "is not valid JSON"}, raw


def test_a_lone_surrogate_is_refused_by_the_value_rules_and_echoed_safely(api, alice):
    _, ust = alice
    raw = f'{{"ust": "{ust}", "current_app": "CRM", "display_name": "a\\ud800b", "\\udfffkey": 1}}'
    body = answer(api.call("PATCH", "user", raw=raw), 422, "E008002")
    assert "display_name" not in body["errors"] and len(body["errors"]) == 1  # step 2 (unknown key) decides
    raw = f'{{"ust": "{ust}", "current_app": "CRM", "display_name": "a\\ud800b"}}'
    assert set(answer(api.call("PATCH", "user", raw=raw), 422, "E008002")["errors"]) == {"display_name"}


def test_null_current_app_counts_as_missing_and_an_unconfigured_one_is_E004001(api, alice):
    _, ust = alice
    assert answer(api.call("GET", "user", {"ust": ust, "current_app": None}), 400, "E008002")["errors"] == {
        "current_app": "is required"
    }
    answer(api.call("GET", "user", {"ust": ust, "current_app": "Elsewhere"}), 403, "E004001")


@pytest.mark.parametrize(
    ("path", "method", "envelope"),
    [
        ("user", "GET", {"current_app": 5}),
        ("user", "GET", {"current_app": APP, "user_id": 5}),
        ("user", "PATCH", {"current_app": APP, "user_id": True, "email": None}),
        ("user/logout", "POST", {"current_app": False}),
        ("user/logout", "POST", {"current_app": APP, "ust": 12}),
        ("user/search", "GET", {"current_app": APP, "ust": 1.5}),
    ],
)
def test_an_envelope_value_of_the_wrong_type_is_400(api, admin, path, method, envelope):
    body = answer(api.call(method, path, {"ust": admin[1], **envelope}), 400, "E008002")
    assert set(body["errors"]) <= {"current_app", "user_id", "ust"} and body["errors"]


def test_an_authorization_header_of_another_scheme_is_ignored_and_an_empty_bearer_is_400(api, alice):
    _, ust = alice
    answer(api.call("GET", "user", {"ust": ust, "current_app": APP}, headers={"Authorization": "Basic eDp5"}), 200)
    for header in ("Bearer", "bearer  ", f"Bearer {ust} extra"):
        answer(api.call("GET", "user", {"current_app": APP}, headers={"Authorization": header}), 400, "E008002")
    answer(api.call("GET", "user", {"current_app": APP}, headers={"Authorization": f"bearer\t{ust}"}), 200)


def test_login_refuses_keys_it_does_not_take(api, alice):
    user, _ = alice
    body = answer(
        api.call(
            "POST",
            "user/login",
            {
                "username": user["username"],
                "password": PASSWORD,
                "current_app": APP,
                "totp_code": "123",
                "otp": "123",
                "nickname": "al",
            },
        ),
        422,
        "E008002",
    )
    assert set(body["errors"]) == {"otp", "nickname"}


def test_get_user_refuses_keys_it_does_not_take(api, alice):
    _, ust = alice
    body = answer(api.call("GET", "user", {"ust": ust, "current_app": APP, "username": "x"}), 422, "E008002")
    assert body["errors"] == {"username": "is not an input of this call"}


def test_head_answers_like_get_without_a_body_and_options_is_405(api, alice):
    _, ust = alice
    response = api.call("HEAD", "user", {"ust": ust, "current_app": APP})
    assert response.status_code == 200 and response.data == b"" and response.headers["ETag"]
    options = api.call("OPTIONS", "user")
    answer(options, 405)
    assert options.headers["Allow"] == "DELETE, GET, HEAD, PATCH, POST"


def test_if_match_naming_two_versions_of_the_user_is_400(api, alice):
    user, ust = alice
    tags = f'"{user["user_id"]}:1", "{user["user_id"]}:2"'
    answer(
        api.call("PATCH", "user", {"ust": ust, "current_app": APP, "display_name": "x"}, headers={"If-Match": tags}),
        400,
        "E008002",
    )


def test_if_match_is_checked_after_the_update_rules_in_spec_order(api, alice):
    _, ust = alice
    stale = {"If-Match": '"zusrnobody:1"'}
    answer(api.call("PATCH", "user", {"ust": ust, "current_app": APP}, headers=stale), 422, "E008003")
    answer(api.call("PATCH", "user", {"ust": "bad", "current_app": APP, "x": 1}, headers=stale), 422, "E008002")
    answer(api.call("PATCH", "user", {"ust": "bad", "current_app": APP, "email": None}, headers=stale), 401, "E007001")
    answer(api.call("PATCH", "user", {"ust": ust, "current_app": APP, "email": None}, headers=stale), 412, "E011001")


def test_an_if_match_from_a_super_users_get_works_on_patch_by_id(api, admin, alice):
    user, _ = alice
    got = api.call("GET", "user", {"ust": admin[1], "current_app": APP, "user_id": user["user_id"]})
    call = {"ust": admin[1], "current_app": APP, "user_id": user["user_id"], "display_name": "by id"}
    answer(api.call("PATCH", "user", call, headers={"If-Match": got.headers["ETag"]}), 200)
    answer(api.call("PATCH", "user", call, headers={"If-Match": got.headers["ETag"]}), 412, "E011001")


def test_the_api_needs_no_csrf_token_even_with_the_consoles_csrf_protection_on(app, api, alice):
    user, _ = alice
    assert app.config.get("WTF_CSRF_ENABLED", True) and app.extensions.get("csrf") is not None
    answer(
        api.call("POST", "user/login", {"username": user["username"], "password": PASSWORD, "current_app": APP}), 200
    )


def test_failed_logins_are_throttled_through_the_api_too(api, alice):
    user, _ = alice
    for _ in range(5):
        answer(
            api.call(
                "POST", "user/login", {"username": user["username"], "password": "Wrong-Pass-1", "current_app": APP}
            ),
            403,
            "E005001",
        )
    paused = api.call("POST", "user/login", {"username": user["username"], "password": PASSWORD, "current_app": APP})
    answer(paused, 429, "E005001")
    assert 280 <= int(paused.headers["Retry-After"]) <= 300  # the window, less the seconds since the first failure
    assert paused.get_json()["errors"] == {"password": "sign-in paused, try again in 5 minutes"}


def test_behind_a_trusted_proxy_the_audit_records_the_forwarded_address(db_url, make_user, alice):
    app = create_app(config_for(db_url, SSO_TRUSTED_PROXIES=1))
    try:
        _user, ust = alice
        response = Client(app).call(
            "PATCH",
            "user",
            {"ust": ust, "current_app": APP, "first_name": "Proxied"},
            headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "agent/2"},
        )
        answer(response, 200)
        sso = app.extensions["sso"]
        (record,) = [r for r in sso.user.history("t", None, ust, APP, "x") if r["action"] == "update"]
        assert (record["remote_addr"], record["user_agent"], record["channel"]) == ("203.0.113.9", "agent/2", "api")
    finally:
        app.extensions["sso_engine"].dispose()


def test_a_search_page_beyond_the_last_is_empty(api, admin):
    body = answer(api.call("GET", "user/search", {"ust": admin[1], "current_app": APP, "cur_page": 50}), 200)
    assert body["result"] == [] and body["has_prev_page"] is True


@pytest.mark.parametrize("text", ["nul\x00byte", "lone\ud800surrogate"])
def test_strings_no_database_can_hold_are_refused_by_every_lookup_never_a_500(api, admin, text):
    ust = admin[1]
    answer(api.call("POST", "user/login", {"username": text, "password": PASSWORD, "current_app": APP}), 403, "E005001")
    answer(api.call("GET", "user", {"ust": ust, "current_app": APP, "user_id": text}), 404, "E001100")
    answer(api.call("PATCH", "user", {"ust": ust, "current_app": APP, "user_id": text, "email": None}), 404, "E001100")
    answer(
        api.call(
            "PATCH",
            "user/password",
            {"ust": ust, "current_app": APP, "user_id": text, "new_password": "Sturdy-Gate-42"},
        ),
        404,
        "E001100",
    )
    for criterion in ("username", "email", "last_name", "q", "user_id"):
        body = answer(api.call("GET", "user/search", {"ust": ust, "current_app": APP, criterion: text}), 422, "E008002")
        assert set(body["errors"]) == {criterion}


def test_a_search_page_number_beyond_the_documented_maximum_is_422(api, admin):
    answer(api.call("GET", "user/search", {"ust": admin[1], "current_app": APP, "cur_page": 2**31}), 422, "E008002")
    answer(api.call("GET", "user/search", {"ust": admin[1], "current_app": APP, "cur_page": 2**31 - 1}), 200)
