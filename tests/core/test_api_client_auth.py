"""Issue 31 #10: an API client's Basic secret is throttled like a sign-in, and an unknown client name costs
one scrypt like a wrong secret (the names of linked clients cannot be found by timing), on both databases."""

from __future__ import annotations

import statistics
import time

import pytest

from webapp.sso import Code, Kind

from .helpers import ADDR, APP, CID, PASSWORD, frozen_clock, refused

WRONG = "not-the-secret-at-all-1"


def linked_client(sso, name="ops.robot"):
    """An API client `name` linked to a new user; returns its secret."""
    sso.user.create_local("boss", PASSWORD, super_user=True)
    robot = sso.user.create_local("robot", None, super_user=False)
    ust = sso.user.login(CID, "boss", PASSWORD, APP, ADDR).ust
    secret = sso.user.create_api_client(name)
    sso.user.link(CID, robot["user_id"], {"auth_type": "zato.basic_auth", "auth_username": name}, ust, APP, ADDR)
    return secret


def test_wrong_secrets_pause_the_client_like_a_sign_in(make_app):
    sso = make_app(SSO_LOGIN_MAX_FAILURES=3, SSO_LOGIN_FAILURE_WINDOW=300).extensions["sso"]
    secret = linked_client(sso)
    clock = frozen_clock(sso)
    assert sso.user.basic_session(CID, "ops.robot", secret, APP, "10.7.0.1")  # a right one never counts
    for _ in range(3):
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.basic_session(CID, "ops.robot", WRONG, APP, "10.7.0.1")
    with refused(Kind.throttled, Code.auth_invalid) as info:  # the right one too, until the pause ends
        sso.user.basic_session(CID, "ops.robot", secret, APP, "10.7.0.1")
    assert info.value.retry_after == 300 and list(info.value.errors) == ["authorization"]
    assert sso.user.basic_session(CID, "ops.robot", secret, APP, "10.7.0.2")  # from elsewhere: not paused
    for _ in range(3):  # unknown names are counted too (their address is paused like any guesser's)
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.basic_session(CID, "no.such.client", WRONG, APP, "10.7.0.3")
    with refused(Kind.throttled, Code.auth_invalid):
        sso.user.basic_session(CID, "no.such.client", WRONG, APP, "10.7.0.3")
    clock(seconds=301)
    assert sso.user.basic_session(CID, "ops.robot", secret, APP, "10.7.0.1")


def test_an_unknown_client_name_costs_what_a_wrong_secret_costs(make_app):
    """At a cost where one scrypt takes tens of milliseconds, an unknown name took about 2 ms."""
    sso = make_app(SSO_SCRYPT_N=2**12, SSO_LOGIN_MAX_FAILURES=0).extensions["sso"]
    linked_client(sso)

    def median_seconds(name: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            with pytest.raises(Exception):  # noqa: B017 (E005001 either way: timed, not told apart)
                sso.user.basic_session(CID, name, WRONG, APP, ADDR)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    median_seconds("no.such.client")  # the dummy hash is made once per cost: not part of the measure
    wrong_secret, unknown_name = median_seconds("ops.robot"), median_seconds("no.such.client")
    assert unknown_name > 0.6 * wrong_secret, (unknown_name, wrong_secret)
