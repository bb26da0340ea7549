"""Over real HTTP (gunicorn, two workers; issue 12): the throttle under parallel guesses on both
databases, the throttle and HSTS behind a proxy, chunked bodies, NUL-ended datetimes."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest
import requests

from ..conftest import PASSWORD
from .conftest import APP, start_site, unique
from .helpers import ok, refused

WRONG = "Wrong-Password-1"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def guarded(request, tmp_path_factory):
    """A server with the default throttle per pair (5) and username (20); every test comes from
    127.0.0.1, so the per-address limit is out of the way here (the proxy tests cover it)."""
    yield from start_site(
        request.param, request, tmp_path_factory, SSO_LOGIN_MAX_FAILURES="5", SSO_LOGIN_MAX_FAILURES_PER_ADDRESS="1000"
    )


@pytest.fixture(scope="module")
def proxied(request, tmp_path_factory):
    """A server behind one trusted proxy (SQLite)."""
    yield from start_site("sqlite", request, tmp_path_factory, SSO_LOGIN_MAX_FAILURES="5", SSO_TRUSTED_PROXIES="1")


def login(site, username, password, headers=None):
    return site.api.call(
        "POST", "user/login", {"username": username, "password": password, "current_app": APP}, headers=headers
    )


def test_48_parallel_wrong_passwords_are_counted_exactly_5_times(guarded):
    user, _ = guarded.new_user("target", login=False)
    with ThreadPoolExecutor(48) as pool:
        answers = list(
            pool.map(
                lambda _: requests.post(
                    guarded.api.base_url + "/zato/sso/user/login",
                    timeout=60,
                    data=f'{{"username": "{user["username"]}", "password": "{WRONG}", "current_app": "{APP}"}}',
                ),
                range(48),
            )
        )
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [403] * 5 + [429] * 43, statuses
    assert all(response.json()["sub_status"] == ["E005001"] for response in answers)
    assert all(int(response.headers["Retry-After"]) > 0 for response in answers if response.status_code == 429)


def test_a_paused_sign_in_says_when_and_not_whether_the_account_exists(guarded):
    real, _ = guarded.new_user("real", login=False)
    ghost = unique("ghost")
    bodies = []
    for name in (real["username"], ghost):
        for _ in range(5):
            refused(login(guarded, name, WRONG), 403, "E005001")
        paused = login(guarded, name, PASSWORD)
        body = refused(paused, 429, "E005001")
        assert 280 <= int(paused.headers["Retry-After"]) <= 300
        bodies.append(body["errors"])
    assert bodies[0] == bodies[1] == {"password": "sign-in paused, try again in 5 minutes"}


def test_without_a_trusted_proxy_a_forwarded_address_does_not_dodge_the_pause(guarded):
    user, _ = guarded.new_user("dodger", login=False)
    for number in range(5):
        refused(login(guarded, user["username"], WRONG, {"X-Forwarded-For": f"203.0.113.{number}"}), 403, "E005001")
    refused(login(guarded, user["username"], PASSWORD, {"X-Forwarded-For": "203.0.113.99"}), 429, "E005001")


def test_behind_a_trusted_proxy_a_stranger_pauses_only_their_own_address(proxied):
    user, _ = proxied.new_user("person", login=False)
    stranger, person = {"X-Forwarded-For": "203.0.113.66"}, {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(5):
        refused(login(proxied, user["username"], WRONG, stranger), 403, "E005001")
    refused(login(proxied, user["username"], PASSWORD, stranger), 429, "E005001")
    ok(login(proxied, user["username"], PASSWORD, person))
    for _ in range(20):  # one address guessing many names reaches the per-address limit
        refused(login(proxied, unique("n"), WRONG, {"X-Forwarded-For": "203.0.113.77"}), 403, "E005001")
    refused(login(proxied, user["username"], PASSWORD, {"X-Forwarded-For": "203.0.113.77"}), 429, "E005001")
    ok(login(proxied, user["username"], PASSWORD, {"X-Forwarded-For": "198.51.100.8"}))


def test_hsts_is_sent_over_https_only(proxied, guarded):
    # (gunicorn itself believes X-Forwarded-Proto from 127.0.0.1: its forwarded_allow_ips, see SECURITY.md)
    https = proxied.api.call("GET", "openapi.json", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    page = requests.get(proxied.api.base_url + "/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert "Strict-Transport-Security" in page.headers
    assert "Strict-Transport-Security" not in proxied.api.call("GET", "openapi.json").headers
    assert "Strict-Transport-Security" not in guarded.api.call("GET", "openapi.json").headers


def _chunks(data: bytes, size: int = 4096):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_chunked_body_over_the_limit_is_413_and_one_under_it_is_read_whole(guarded):
    user, _ = guarded.new_user("chunky", login=False)
    padding = "x" * (70 * 1024)
    big = (
        f'{{"username": "{user["username"]}", "password": "{PASSWORD}", "current_app": "{APP}", '
        f'"pad": "{padding}"}}'.encode()
    )
    response = requests.post(guarded.api.base_url + "/zato/sso/user/login", data=_chunks(big), timeout=30)
    body = refused(response, 413, "E008002")
    assert body["errors"] == {"body": f"must be at most {64 * 1024} bytes"}
    small = f'{{"username": "{user["username"]}", "password": "{PASSWORD}", "current_app": "{APP}"}}'.encode()
    assert ok(requests.post(guarded.api.base_url + "/zato/sso/user/login", data=_chunks(small, 7), timeout=30))["ust"]


def raw_request(base_url: str, request: bytes) -> bytes:
    where = urlparse(base_url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("chunked", [b"zz\r\n{}\r\n0\r\n\r\n", b"5\r\n{}\r\n0\r\n\r\n", b"2\r\n{}"])
def test_a_malformed_chunked_body_is_400_not_500(guarded, chunked):
    answer = raw_request(
        guarded.api.base_url,
        b"POST /zato/sso/user/login HTTP/1.1\r\nHost: localhost\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked,
    )
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"400", answer[:500]


def test_a_datetime_ending_in_nul_is_refused_over_http(guarded):
    user, _ = guarded.new_user("nul", login=False)
    response = guarded.api.call(
        "PATCH",
        "user",
        {
            "ust": guarded.admin_ust,
            "current_app": APP,
            "user_id": user["user_id"],
            "password_expiry": "2030-01-31T12:00:00\u0000",
        },
    )
    assert refused(response, 422, "E008002")["errors"] == {
        "password_expiry": "must be an ISO 8601 date and time, e.g. 2030-01-31T12:00:00Z"
    }


def test_wrong_secrets_of_a_linked_api_client_are_paused_like_sign_ins(guarded):
    """Issue 31 #10: a linked client's Basic secret could be guessed without limit."""
    user, _ = guarded.new_user("robot", login=False)
    name = unique("client").replace("_", ".")
    secret = guarded.sso.operator.create_api_client(name)
    link = {"auth_type": "zato.basic_auth", "auth_username": name}
    guarded.sso.user.link("test", user["user_id"], link, guarded.admin_ust, APP, "127.0.0.1")
    url = guarded.api.base_url + "/zato/sso/user"
    body = json.dumps({"current_app": APP})

    def call(password: str) -> requests.Response:
        return requests.get(url, data=body, auth=(name, password), timeout=30)

    for _ in range(5):  # SSO_LOGIN_MAX_FAILURES per (name, address)
        wrong = call("x" + secret)
        assert (wrong.status_code, wrong.json()["sub_status"]) == (403, ["E005001"])
    paused = call(secret)  # the right one too, while paused
    assert (paused.status_code, paused.json()["sub_status"]) == (429, ["E005001"])
    assert int(paused.headers["Retry-After"]) > 0 and "X-Zato-SSO-UST" not in paused.headers
