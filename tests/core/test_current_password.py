"""Issue 31 #1: every place that checks a signed-in person's current password counts a wrong one like a
failed sign-in (one shared check), so a stolen session cannot guess it without limit."""

from __future__ import annotations

import pyotp
import pytest

from webapp.sso import Code, Kind

from .helpers import APP, CID, PASSWORD, frozen_clock, refused

WRONG = "Wrong-Password-1"
KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ADDR = "10.9.0.1"


@pytest.fixture
def sso(make_app):
    """3 failures per (username, address) within 300 s pause that pair."""
    application = make_app(SSO_LOGIN_MAX_FAILURES=3, SSO_LOGIN_FAILURE_WINDOW=300)
    return application.extensions["sso"]


def _enable(sso, ust, password):
    code = pyotp.TOTP(KEY).at(sso.ctx.clock())
    return sso.user.enable_totp(CID, {"password": password, "totp_key": KEY, "totp_code": code}, ust, APP, ADDR)


def _disable(sso, ust, password):
    return sso.user.disable_totp(CID, None, password, ust, APP, ADDR)


def _regenerate(sso, ust, password):
    return sso.user.regenerate_recovery_codes(CID, password, ust, APP, ADDR)


def _change(sso, ust, password):
    return sso.user.change_password(
        CID, {"old_password": password, "new_password": "Brand-New-Secret-42"}, ust, APP, ADDR
    )


@pytest.mark.parametrize(
    ("check", "field", "totp_on"),
    [
        (_enable, "password", False),
        (_disable, "password", True),
        (_regenerate, "password", True),
        (_change, "old_password", False),
    ],
    ids=["enable", "disable", "recovery-codes", "change-password"],
)
def test_wrong_current_passwords_pause_every_check_and_sign_in_alike(sso, check, field, totp_on):
    clock = frozen_clock(sso)
    user = sso.operator.create_local("bob", PASSWORD, super_user=False)
    if totp_on:
        sso.operator.reset_totp_key_local("bob", KEY)
        admin = sso.operator.create_local("boss", PASSWORD, super_user=True)
        boss_ust = sso.user.login(CID, "boss", PASSWORD, APP, "10.1.1.1").ust
        sso.user.update_user_by_id(CID, user["user_id"], {"is_totp_enabled": True}, boss_ust, APP, "10.1.1.1")
        assert admin["user_id"] != user["user_id"]
        ust = sso.user.login(CID, "bob", PASSWORD, APP, ADDR, totp_code=pyotp.TOTP(KEY).at(clock.now())).ust
    else:
        ust = sso.user.login(CID, "bob", PASSWORD, APP, ADDR).ust
    for _ in range(3):
        with refused(Kind.forbidden, Code.auth_invalid) as info:
            check(sso, ust, WRONG)
        assert list(info.value.errors) == [field]
    with refused(Kind.throttled, Code.auth_invalid) as info:  # the right one too, until the pause ends
        check(sso, ust, PASSWORD)
    assert list(info.value.errors) == [field] and info.value.retry_after == 300
    with refused(Kind.throttled, Code.auth_invalid):  # and the guesses count against signing in from there
        sso.user.login(CID, "bob", PASSWORD, APP, ADDR)
    clock(seconds=301)
    check(sso, ust, PASSWORD)


def test_a_right_current_password_takes_its_mark_back(sso):
    frozen_clock(sso)
    sso.operator.create_local("bob", PASSWORD, super_user=False)
    ust = sso.user.login(CID, "bob", PASSWORD, APP, ADDR).ust
    for _ in range(5):  # more right answers than the limit: none of them counts
        _enable(sso, ust, PASSWORD)
        _disable(sso, ust, PASSWORD)
    assert sso.user.login(CID, "bob", PASSWORD, APP, ADDR).status == "ok"
