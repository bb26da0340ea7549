"""SPEC §14 per-user rate limits over two gunicorn workers: the count is shared through the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .client import ZatoClient, random_data, random_username


def test_concurrent_calls_over_two_workers_share_one_limit_and_get_429_with_retry_after(zato):
    username, password = random_username(), random_data()
    created = zato.client.post(
        "/zato/sso/user",
        {
            "ust": zato.super_user_ust,
            "username": username,
            "password": password,
            "auto_approve": True,
            "is_rate_limit_active": True,
            "rate_limit_def": "Console=100/h\nCRM=6/h\n*=1/h",
        },
    )
    ust = zato.login(username, password)  # the login is the first of the six

    def one_call(_):
        # a fresh connection each time, so the requests spread over both workers
        return ZatoClient(zato.client.base_url).get("/zato/sso/user", {"ust": ust}, False).http

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(one_call, range(10)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 5 + [429] * 5
    limited = next(answer for answer in answers if answer.status_code == 429)
    assert limited.json()["sub_status"] == ["E005001"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    # the first matching line decides: Console has its own, larger allowance
    assert (
        ZatoClient(zato.client.base_url).get("/zato/sso/user", {"ust": ust, "current_app": "Console"}).user_id
        == created.user_id
    )
    # other users are not affected
    assert zato.client.get("/zato/sso/user", {"ust": zato.super_user_ust}).user_id == zato.super_user_id


def test_logins_count_too_and_a_user_without_an_active_limit_is_never_limited(zato):
    username, password = random_username(), random_data()
    zato.client.post(
        "/zato/sso/user",
        {
            "ust": zato.super_user_ust,
            "username": username,
            "password": password,
            "auto_approve": True,
            "is_rate_limit_active": True,
            "rate_limit_def": "*=2/h",
        },
    )
    zato.login(username, password)
    zato.login(username, password)
    third = zato.client.post("/zato/sso/user/login", {"username": username, "password": password}, False)
    assert (third.http.status_code, third.sub_status) == (429, ["E005001"]) and "ust" not in third
    inactive, secret = random_username(), random_data()
    zato.client.post(
        "/zato/sso/user",
        {
            "ust": zato.super_user_ust,
            "username": inactive,
            "password": secret,
            "auto_approve": True,
            "is_rate_limit_active": False,
            "rate_limit_def": "*=1/h",
        },
    )
    for _ in range(3):
        zato.login(inactive, secret)
