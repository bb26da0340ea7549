"""Failed-login throttling (SPEC §5, issue 12 #6-#8): (username, address) pairs, addresses, usernames
with a growing delay; old-password guesses count too; a pause names its end and tells nothing of the
account."""

from __future__ import annotations

import pytest

from webapp.sso import Code, Kind

from .helpers import APP, CID, PASSWORD, audit_of, frozen_clock, refused

WRONG = "Wrong-Password-1"
NEW_PASSWORD = "Brand-New-Secret-42"


@pytest.fixture
def throttled(make_app):
    """3 failures per pair, 5 per address, 6 per username, in 300 s; delays up to 60 s."""
    application = make_app(
        SSO_LOGIN_MAX_FAILURES=3,
        SSO_LOGIN_MAX_FAILURES_PER_ADDRESS=5,
        SSO_LOGIN_MAX_FAILURES_PER_USERNAME=6,
        SSO_LOGIN_MAX_DELAY=60,
        SSO_LOGIN_FAILURE_WINDOW=300,
    )
    sso = application.extensions["sso"]
    for name in ("bob", "carol"):
        sso.operator.create_local(name, PASSWORD, super_user=False)
    return sso


def log_in(sso, username, password=PASSWORD, addr="10.0.0.1"):
    return sso.user.login(CID, username, password, APP, addr)


def fail(sso, username, addr):
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, username, WRONG, addr)


def paused(sso, username, addr, password=PASSWORD):
    """The pause as the caller sees it: E005001, kind `throttled` (HTTP 429), its message and seconds."""
    with refused(Kind.throttled, Code.auth_invalid) as info:
        log_in(sso, username, password, addr)
    (message,) = info.value.errors.values()
    return message, info.value.retry_after


def test_a_pair_pauses_after_its_limit_but_the_person_signs_in_from_elsewhere(throttled):
    sso = throttled
    clock = frozen_clock(sso)
    for _ in range(3):
        fail(sso, "bob", "10.6.6.6")
    message, retry = paused(sso, "BOB", "10.6.6.6")  # even the right password, any case of the name
    assert retry == 300 and message == "sign-in paused, try again in 5 minutes"
    assert log_in(sso, "bob", addr="10.0.0.1").status == "ok"  # a stranger cannot lock bob out
    clock(seconds=301)
    assert log_in(sso, "bob", addr="10.6.6.6").status == "ok"


def test_an_address_pauses_for_every_username_after_its_limit(throttled):
    sso = throttled
    clock = frozen_clock(sso)
    for name in ("bob", "carol", "nobody", "bob", "carol"):
        fail(sso, name, "10.9.9.9")
    for name in ("bob", "dave"):
        assert paused(sso, name, "10.9.9.9")[1] == 300
    assert log_in(sso, "carol", addr="10.0.0.2").status == "ok"
    clock(seconds=301)
    assert log_in(sso, "carol", addr="10.9.9.9").status == "ok"


def test_a_username_guessed_from_many_addresses_gets_a_growing_delay_not_a_lock(throttled):
    sso = throttled
    clock = frozen_clock(sso)
    assert log_in(sso, "bob", addr="10.0.0.1").status == "ok"  # bob's own address, known from now on
    for number in range(6):
        fail(sso, "bob", f"10.1.0.{number}")
    delays = []
    for number in range(6, 13):
        delays.append(paused(sso, "bob", f"10.1.0.{number}")[1])
        clock(seconds=delays[-1])
        fail(sso, "bob", f"10.1.0.{number}")
    assert delays == [1, 2, 4, 8, 16, 32, 60]
    assert paused(sso, "bob", "10.1.0.99") == ("sign-in paused, try again in 1 minute", 60)
    # bob, from where he signed in before, is not delayed by the strangers' guesses
    assert log_in(sso, "bob", addr="10.0.0.1").status == "ok"


def test_a_pause_says_the_same_for_an_account_that_exists_and_one_that_does_not(throttled):
    sso = throttled
    frozen_clock(sso)
    for name in ("bob", "ghost"):
        for _ in range(3):
            fail(sso, name, f"10.2.0.{len(name)}")
    assert paused(sso, "bob", "10.2.0.3") == paused(sso, "ghost", "10.2.0.5")


def test_successful_logins_never_count_towards_the_limit(throttled):
    sso = throttled
    for _ in range(5):
        assert log_in(sso, "bob").status == "ok"
    for _ in range(2):
        fail(sso, "bob", "10.0.0.1")
    assert log_in(sso, "bob").status == "ok"
    for _ in range(2):
        fail(sso, "bob", "10.0.0.1")  # the pair's two before were forgotten with the success
    assert log_in(sso, "bob").status == "ok"


def test_a_right_password_that_must_change_is_not_counted_as_a_guess(throttled):
    sso = throttled
    boss = sso.operator.create_local("boss", PASSWORD, super_user=True)
    boss_ust = log_in(sso, "boss", addr="10.5.5.5").ust
    bob_id = sso.user.search(CID, {"username": "bob"}, boss_ust, APP, "x")["result"][0]["user_id"]
    sso.user.update_user_by_id(CID, bob_id, {"password_must_change": True}, boss_ust, APP, "x")
    for _ in range(4):  # more than the pair's limit of 3
        with refused(Kind.forbidden, Code.password_must_change):
            log_in(sso, "bob", addr="10.3.0.1")
    assert boss["user_id"] != bob_id


def test_a_limit_of_zero_turns_throttling_off(make_app):
    sso = make_app(SSO_LOGIN_MAX_FAILURES=0).extensions["sso"]
    sso.operator.create_local("bob", PASSWORD, super_user=False)
    for _ in range(30):
        fail(sso, "bob", "10.0.0.1")
    assert log_in(sso, "bob").status == "ok"


def test_wrong_old_passwords_on_change_password_are_throttled_like_logins(throttled):
    sso = throttled
    clock = frozen_clock(sso)
    ust = log_in(sso, "bob", addr="10.4.0.1").ust
    for _ in range(3):
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.change_password(CID, {"old_password": WRONG, "new_password": NEW_PASSWORD}, ust, APP, "10.4.0.1")
    with refused(Kind.throttled, Code.auth_invalid) as info:  # the right one too, until the pause ends
        sso.user.change_password(CID, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, ust, APP, "10.4.0.1")
    assert list(info.value.errors) == ["old_password"] and info.value.retry_after == 300
    paused(sso, "bob", "10.4.0.1")  # and the same guesses count against signing in from there
    clock(seconds=301)
    sso.user.change_password(CID, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, ust, APP, "10.4.0.1")
    assert audit_of(sso, action="change_password")
