"""Issue 31 #10: an API client's Basic secret is throttled like a sign-in, and an unknown client name costs
one scrypt like a wrong secret (the names of linked clients cannot be found by timing), on both databases."""

from __future__ import annotations

import time

import pytest

from webapp.sso import Code, Kind
from webapp.sso.kernel.call import Call

from .helpers import ADDR, APP, CID, PASSWORD, frozen_clock, refused

WRONG = "not-the-secret-at-all-1"


def serve(sso, addr):
    """The service as an API client's call from `addr` sees it."""
    return sso.serve(Call(cid=CID, current_app=APP, remote_addr=addr))


def linked_client(sso, name="ops.robot"):
    """An API client `name` linked to a new user; returns its secret."""
    sso.operator.create_local("boss", PASSWORD, super_user=True)
    robot = sso.operator.create_local("robot", None, super_user=False)
    ust = sso.user.login(CID, "boss", PASSWORD, APP, ADDR).ust
    secret = sso.operator.create_api_client(name)
    sso.user.link(CID, robot["user_id"], {"auth_type": "zato.basic_auth", "auth_username": name}, ust, APP, ADDR)
    return secret


def test_wrong_secrets_pause_the_client_like_a_sign_in(make_app):
    sso = make_app(SSO_LOGIN_MAX_FAILURES=3, SSO_LOGIN_FAILURE_WINDOW=300).extensions["sso"]
    secret = linked_client(sso)
    clock = frozen_clock(sso)
    assert serve(sso, "10.7.0.1").basic_session("ops.robot", secret)  # a right one never counts
    for _ in range(3):
        with refused(Kind.forbidden, Code.auth_invalid):
            serve(sso, "10.7.0.1").basic_session("ops.robot", WRONG)
    with refused(Kind.throttled, Code.auth_invalid) as info:  # the right one too, until the pause ends
        serve(sso, "10.7.0.1").basic_session("ops.robot", secret)
    assert info.value.retry_after == 300 and list(info.value.errors) == ["authorization"]
    assert serve(sso, "10.7.0.2").basic_session("ops.robot", secret)  # from elsewhere: not paused
    for _ in range(3):  # unknown names are counted too (their address is paused like any guesser's)
        with refused(Kind.forbidden, Code.auth_invalid):
            serve(sso, "10.7.0.3").basic_session("no.such.client", WRONG)
    with refused(Kind.throttled, Code.auth_invalid):
        serve(sso, "10.7.0.3").basic_session("no.such.client", WRONG)
    clock(seconds=301)
    assert serve(sso, "10.7.0.1").basic_session("ops.robot", secret)


def test_an_unknown_client_name_costs_what_a_wrong_secret_costs(make_app):
    """At a cost where one scrypt takes tens of milliseconds, an unknown name took about 2 ms."""
    sso = make_app(SSO_SCRYPT_N=2**12, SSO_LOGIN_MAX_FAILURES=0).extensions["sso"]
    linked_client(sso)

    def fastest_seconds(name: str) -> float:
        """The fastest of five refusals: load on the machine only ever adds time."""
        times = []
        for _ in range(5):
            started = time.perf_counter()
            with pytest.raises(Exception):  # noqa: B017 (E005001 either way: timed, not told apart)
                serve(sso, ADDR).basic_session(name, WRONG)
            times.append(time.perf_counter() - started)
        return min(times)

    fastest_seconds("no.such.client")  # the dummy hash is made once per cost: not part of the measure
    wrong_secret, unknown_name = fastest_seconds("ops.robot"), fastest_seconds("no.such.client")
    assert unknown_name > 0.5 * wrong_secret, (unknown_name, wrong_secret)
