"""Odd requests to the console (issue 12), over real HTTP (gunicorn, eight workers here, SQLite): HEAD
never acts, digit-like and huge numbers and CR/LF in `next` are no 500s, a paused sign-in says so, and eight
administrators saving eight different fields of one user at once all succeed."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests

from webapp import create_app

from ..conftest import FERNET_KEY, PASSWORD, fresh_database
from ..conftest import app_config as config_for
from ..server import LiveServer, console_session, server_env
from .html_forms import forms, login_form

FIELDS = {
    "display_name": "Display",
    "first_name": "First",
    "middle_name": "Middle",
    "last_name": "Last",
    "email": "eight@example.com",
    "sign_up_status": "before_confirmation",
    "approval_status": "rejected",
    "username": None,
}


@pytest.fixture(scope="module")
def live(request, tmp_path_factory):
    url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(config_for(url))
    sso = app.extensions["sso"]
    admins = [
        sso.operator.create_local(f"admin{number}_{uuid.uuid4().hex[:4]}", PASSWORD, super_user=True)
        for number in range(8)
    ]
    # eight workers, so that eight saves really run at once
    with LiveServer(
        server_env(url, FERNET_KEY, SSO_LOGIN_MAX_FAILURES="3", SSO_LOGIN_MAX_FAILURES_PER_ADDRESS="1000"), workers=8
    ) as server:
        yield server.url, sso, admins
    app.extensions["sso_engine"].dispose()
    assert '" 500 ' not in server.log.read_text(), f"a 500 in {server.log}"


def test_head_on_logout_does_not_end_the_session(live):
    base, _, admins = live
    http = console_session(base, admins[0]["username"], PASSWORD)
    assert http.head(f"{base}/logout", timeout=30).status_code == 200
    assert http.get(f"{base}/account", allow_redirects=False, timeout=30).status_code == 200
    for path in ("/account/password", "/login/new-password", "/login"):  # HEAD acts nowhere
        assert http.head(f"{base}{path}", timeout=30).status_code < 500
    assert http.get(f"{base}/account", allow_redirects=False, timeout=30).status_code == 200


@pytest.mark.parametrize("page", ["\u00b3", "\u0663", "9" * 4000, "-1", "0"])  # (4000: gunicorn's line limit)
def test_a_digit_like_or_huge_page_number_shows_the_first_page(live, page):
    base, _, admins = live
    http = console_session(base, admins[1]["username"], PASSWORD)
    assert http.get(f"{base}/users", params={"page": page}, timeout=30).status_code == 200


@pytest.mark.parametrize("version", ["\u00b2", "9" * 5000, "\uff11"])
def test_a_digit_like_or_huge_version_in_a_form_is_no_500(live, version):
    base, sso, admins = live
    http = console_session(base, admins[2]["username"], PASSWORD)
    target = sso.operator.create_local(f"t_{uuid.uuid4().hex[:6]}", PASSWORD, super_user=False)
    form = forms(http.get(f"{base}/users/{target['user_id']}", timeout=30).text)["user-form"]
    form.fill("first_name", "Changed")
    data = [(name, version if name == "version" else value) for name, value in form.data()]
    answer = http.post(f"{base}{form.action}", data=data, allow_redirects=False, timeout=30)
    assert answer.status_code < 500, answer.text[:300]


@pytest.mark.parametrize("next_url", ["/account\r\nX-Injected: 1", "/account\nSet-Cookie: a=b", "/\x00"])
def test_cr_lf_in_next_is_ignored_not_a_500(live, next_url):
    base, _, admins = live
    http = requests.Session()
    assert http.get(f"{base}/login", params={"next": next_url}, timeout=30).status_code == 200
    form = login_form(http.get(f"{base}/login", timeout=30).text, admins[3]["username"], PASSWORD)
    data = [(name, next_url if name == "next" else value) for name, value in form.data()]
    answer = http.post(f"{base}/login", data=data, allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and "X-Injected" not in answer.headers
    assert "\n" not in answer.headers["Location"] and "a=b" not in answer.headers.get("Set-Cookie", "")


def test_a_paused_sign_in_says_so_in_the_console(live):
    base, _, _ = live
    http = requests.Session()
    name = f"nobody_{uuid.uuid4().hex[:6]}"
    for _ in range(4):
        form = login_form(http.get(f"{base}/login", timeout=30).text, name, "Wrong-Password-1")
        answer = http.post(f"{base}/login", data=form.data(), timeout=30)
    assert answer.status_code == 429 and 280 <= int(answer.headers["Retry-After"]) <= 300
    assert "Sign-in paused, try again in 5 minutes." in answer.text


@pytest.mark.parametrize("round_", range(2))
def test_eight_admins_saving_eight_different_fields_at_once_all_succeed(live, round_):
    base, sso, admins = live
    target = sso.operator.create_local(f"eight_{uuid.uuid4().hex[:6]}", PASSWORD, super_user=False)
    sessions = [console_session(base, admin["username"], PASSWORD) for admin in admins]
    prepared = []
    for http, (name, value) in zip(sessions, FIELDS.items(), strict=True):
        form = forms(http.get(f"{base}/users/{target['user_id']}", timeout=30).text)["user-form"]
        wanted = value if value is not None else target["username"] + "x"
        form.fill(name, wanted)
        prepared.append((http, form, name, wanted))
    start = threading.Barrier(len(prepared))
    answers: dict[str, requests.Response] = {}

    def save(http, form, name, _wanted):
        start.wait()
        answers[name] = http.post(f"{base}{form.action}", data=form.data(), allow_redirects=False, timeout=60)

    threads = [threading.Thread(target=save, args=args) for args in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(FIELDS, 303)
    stored = sso.user.get_user_by_id(
        "t",
        target["user_id"],
        sso.user.login("t", admins[0]["username"], PASSWORD, "CRM", "10.1.1.1").ust,
        "CRM",
        "10.1.1.1",
    )
    assert {name: stored[name] for _, _, name, _ in prepared} == {name: wanted for _, _, name, wanted in prepared}
