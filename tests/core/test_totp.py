"""SPEC §10 two-factor sign-in through the Python API: keys (encrypted, never shown), codes at login
(no replay), recovery codes, turning it on and off, and the CLI's reset-totp-key."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Code, Kind
from webapp.sso.kernel.tables import recovery_codes

from ..conftest import FERNET_KEY
from .helpers import ADDR, APP, CID, PASSWORD, audit_of, frozen_clock, refused, row_of, session_rows

KEY = "KMCLCWN4YPMD2WO3"  # 80 bits: the test key Zato's own suite uses, the shortest SPEC §10 allows
OTHER_KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class ShortKeyTotp(pyotp.TOTP):
    """pyotp refuses keys under 112 bits; an app such as Google Authenticator takes Zato's 80-bit one."""

    def byte_secret(self) -> bytes:
        return base64.b32decode(self.secret + "=" * (-len(self.secret) % 8))


def code(key: str, at: datetime, steps: int = 0) -> str:
    """What an authenticator app shows for `key` at `at` (naive UTC), `steps` time-steps later."""
    totp = pyotp.TOTP(key) if len(key) >= 23 else ShortKeyTotp(key)
    return totp.at(int(at.replace(tzinfo=UTC).timestamp()) + 30 * steps)


def stored_key(sso, user_id: str) -> str:
    """The TOTP key as the database holds it (the raw column)."""
    return row_of(sso, user_id)["totp_key"]


def decrypted(sealed: str, key: str = FERNET_KEY) -> str:
    return Fernet(key.encode()).decrypt(sealed.encode()).decode()


def log_in(sso, username, totp_code=None, password=PASSWORD, **kw):
    return sso.user.login(CID, username, password, APP, ADDR, totp_code=totp_code, **kw)


@pytest.fixture
def clock(sso):
    """The service clock, frozen at the start of a time-step (so ±1 step is exact)."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return frozen_clock(sso, now.replace(second=0))


@pytest.fixture
def bob(sso, make_user, as_admin):
    """A regular user with TOTP on and the key KEY."""
    user = make_user("bob")
    as_admin(user["user_id"], {"totp_key": KEY, "is_totp_enabled": True})
    return user


# --- keys ------------------------------------------------------------------------------------------------------


def test_every_new_user_gets_a_random_key_encrypted_at_rest_and_never_shown(sso, make_user, admin):
    first, second = make_user("first"), make_user("second")
    raw = [stored_key(sso, user["user_id"]) for user in (first, second)]
    keys = [decrypted(sealed) for sealed in raw]
    assert keys[0] != keys[1]
    for sealed, key in zip(raw, keys, strict=True):
        assert len(key) >= 16 and set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        assert key not in sealed
    shown = sso.user.get_user_by_id(CID, first["user_id"], admin[1], APP, ADDR)
    assert "totp_key" not in shown and "totp_key" not in first
    assert (shown["is_totp_enabled"], shown["totp_label"]) == (False, None)
    created = audit_of(sso, first["user_id"], "create")[0]
    assert created["changes"]["totp_key"] == {"old": "(not shown)", "new": "(changed)"}
    assert keys[0] not in json.dumps(audit_of(sso), default=str)


def test_a_key_set_by_update_is_normalised_encrypted_audited_as_changed_and_never_answered(
    sso, make_user, as_admin, admin
):
    user = make_user("carol")
    answer = as_admin(user["user_id"], {"totp_key": "kmcl cwn4 ypmd 2wo3", "totp_label": "Carol's phone"})
    assert "totp_key" not in answer and answer["totp_label"] == "Carol's phone"
    assert decrypted(stored_key(sso, user["user_id"])) == KEY
    update = audit_of(sso, user["user_id"], "update")[-1]
    assert update["changes"] == {
        "totp_key": {"old": "(not shown)", "new": "(changed)"},
        "totp_label": {"old": None, "new": "Carol's phone"},
    }
    assert KEY not in json.dumps(audit_of(sso), default=str) and "KMCL" not in json.dumps(audit_of(sso), default=str)
    found = sso.user.search(CID, {"username": "carol"}, admin[1], APP, ADDR)
    assert found["total"] == 1 and "totp_key" not in found["result"][0]


def test_the_same_key_again_changes_nothing(sso, make_user, as_admin):
    user = make_user("dave")
    as_admin(user["user_id"], {"totp_key": KEY})
    before = (row_of(sso, user["user_id"]), len(audit_of(sso)))
    as_admin(user["user_id"], {"totp_key": KEY.lower()})
    assert (row_of(sso, user["user_id"]), len(audit_of(sso))) == before


@pytest.mark.parametrize(
    "key, message",
    [
        ("ABC", "must be at least 16 base32 characters"),
        ("KMCLCWN4YPMD2WO1", "must be base32 (the letters A-Z and the digits 2-7)"),
        ("A" * 17, "is not a whole base32 key (a character is missing or extra)"),
        (None, "may not be empty (null)"),
        (12345678901234567, "must be a string"),
    ],
)
def test_a_bad_key_is_refused_naming_the_field_without_quoting_it(sso, make_user, as_admin, unchanged, key, message):
    user = make_user("erin")
    nothing_written = unchanged(user["user_id"])
    with refused(Kind.invalid, Code.invalid_input) as info:
        as_admin(user["user_id"], {"totp_key": key, "totp_label": 5})
    assert info.value.errors == {"totp_key": message, "totp_label": "must be a string"}
    nothing_written()


def test_reset_totp_key_sets_key_and_label_or_generates_a_key(sso, alice, admin):
    user, ust = alice
    assert (
        sso.user.reset_totp_key(CID, None, "jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp", "Phone", ust, APP, ADDR)
        == OTHER_KEY
    )
    assert decrypted(stored_key(sso, user["user_id"])) == OTHER_KEY
    assert row_of(sso, user["user_id"])["totp_label"] == "Phone"
    generated = sso.user.reset_totp_key(CID, user["user_id"], None, None, admin[1], APP, ADDR)
    assert generated != OTHER_KEY and decrypted(stored_key(sso, user["user_id"])) == generated
    assert row_of(sso, user["user_id"])["totp_label"] is None


def test_a_regular_user_cannot_set_another_users_key(sso, alice, make_user, unchanged):
    other = make_user("frank")
    nothing_written = unchanged(other["user_id"])
    with refused(Kind.forbidden, Code.invalid_input):
        sso.user.reset_totp_key(CID, other["user_id"], KEY, None, alice[1], APP, ADDR)
    nothing_written()


def test_a_rotated_fernet_key_still_opens_stored_totp_keys(sso, bob, clock, make_app):
    newer = Fernet.generate_key().decode()
    rotated = make_app(SSO_FERNET_KEYS=[newer, FERNET_KEY]).extensions["sso"]
    rotated.ctx.clock = sso.ctx.clock
    assert log_in(rotated, "bob", code(KEY, clock.now())).status == "ok"


# --- login ----------------------------------------------------------------------------------------------------


def test_login_without_a_code_is_E005008_and_is_not_a_failed_login(sso, bob, clock):
    for missing in (None, ""):
        with refused(Kind.forbidden, Code.totp_missing):
            log_in(sso, "bob", missing)
    assert session_rows(sso, bob["user_id"]) == []
    assert log_in(sso, "bob", code(KEY, clock.now())).status == "ok"


def test_a_right_code_logs_in_once_and_a_replay_is_refused(sso, bob, clock):
    now = clock.now()
    result = log_in(sso, "bob", code(KEY, now))
    assert sso.user.get_current_user(CID, result.ust, APP, ADDR)["username"] == "bob"
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, "bob", code(KEY, now))
    clock(seconds=30)
    assert log_in(sso, "bob", code(KEY, clock.now())).status == "ok"
    with refused(Kind.forbidden, Code.auth_invalid):  # an older code after a newer one: replay too
        log_in(sso, "bob", code(KEY, now))
    assert len(session_rows(sso, bob["user_id"])) == 2


def test_codes_of_the_step_before_and_after_count_and_farther_ones_do_not(sso, bob, clock):
    now = clock.now()
    for steps in (-2, 2):
        with refused(Kind.forbidden, Code.auth_invalid):
            log_in(sso, "bob", code(KEY, now, steps))
    assert log_in(sso, "bob", code(KEY, now, -1)).status == "ok"
    assert log_in(sso, "bob", int(code(KEY, now, 1))).status == "ok"  # a JSON number is read as its six digits


@pytest.mark.parametrize("wrong", ["000000x", "invalid", "1234567", True, 3.5])
def test_a_wrong_code_is_E005001_and_writes_nothing(sso, bob, clock, wrong):
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        log_in(sso, "bob", wrong)
    assert info.value.errors == {}
    assert session_rows(sso, bob["user_id"]) == []


def test_wrong_codes_count_as_failed_logins(sso, bob, make_app, clock):
    strict = make_app(SSO_LOGIN_MAX_FAILURES=2).extensions["sso"]
    strict.ctx.clock = sso.ctx.clock
    right = code(KEY, clock.now())
    wrong = "123456" if right != "123456" else "654321"
    for _ in range(2):
        with refused(Kind.forbidden, Code.auth_invalid):
            log_in(strict, "bob", wrong)
    with refused(Kind.throttled, Code.auth_invalid):  # paused now (429): even the right code is refused
        log_in(strict, "bob", right)
    assert session_rows(sso, bob["user_id"]) == []


def test_a_code_is_not_asked_of_a_user_with_totp_off(sso, make_user, as_admin):
    user = make_user("hank")
    as_admin(user["user_id"], {"totp_key": KEY})
    assert log_in(sso, "hank").status == "ok"
    assert log_in(sso, "hank", "whatever").status == "ok"


def test_a_forced_new_password_comes_before_the_code_which_is_used_up_with_it(sso, bob, as_admin, clock):
    as_admin(bob["user_id"], {"password_must_change": True})
    with refused(Kind.forbidden, Code.password_must_change):
        log_in(sso, "bob")
    with refused(Kind.forbidden, Code.totp_missing):
        log_in(sso, "bob", new_password="Brand-New-Secret-42")
    assert row_of(sso, bob["user_id"])["password_must_change"] is True
    now = clock.now()
    assert log_in(sso, "bob", code(KEY, now), new_password="Brand-New-Secret-42").status == "ok"
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, "bob", code(KEY, now), password="Brand-New-Secret-42")


def test_a_user_who_may_not_log_in_gets_E005001_before_any_question_of_a_code(sso, bob, as_admin):
    as_admin(bob["user_id"], {"is_locked": True})
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, "bob")


# --- turning it on: password + a code of the new key; recovery codes ------------------------------------------


def enable(sso, ust, key=OTHER_KEY, at=None, **data):
    return sso.user.enable_totp(
        CID,
        {"password": PASSWORD, "totp_key": key, "totp_code": code(key, at or sso.ctx.clock()), **data},
        ust,
        APP,
        ADDR,
    )


def test_enabling_needs_the_current_password_and_a_code_of_the_new_key(sso, alice, clock, unchanged):
    user, ust = alice
    nothing_written = unchanged(user["user_id"])
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        enable(sso, ust, password="Not-My-Password-1")
    assert set(info.value.errors) == {"password"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.enable_totp(
            CID, {"password": PASSWORD, "totp_key": OTHER_KEY, "totp_code": code(KEY, clock.now())}, ust, APP, ADDR
        )
    assert set(info.value.errors) == {"totp_code"}
    with refused(Kind.malformed, Code.invalid_input) as info:
        sso.user.enable_totp(CID, {"totp_key": OTHER_KEY}, ust, APP, ADDR)
    assert set(info.value.errors) == {"password", "totp_code"}
    nothing_written()

    codes = enable(sso, ust, totp_label="Alice's phone")
    row = row_of(sso, user["user_id"])
    assert (row["is_totp_enabled"], row["totp_label"], decrypted(row["totp_key"])) == (True, "Alice's phone", OTHER_KEY)
    assert len(codes) == len(set(codes)) == 10
    changes = audit_of(sso, user["user_id"], "update")[-1]["changes"]
    assert changes["totp_key"] == changes["recovery_codes"] == {"old": "(not shown)", "new": "(changed)"}
    assert changes["is_totp_enabled"] == {"old": False, "new": True}
    with refused(Kind.forbidden, Code.auth_invalid):  # the code that enabled it is used up
        log_in(sso, "alice", code(OTHER_KEY, clock.now()))
    clock(seconds=30)
    assert log_in(sso, "alice", code(OTHER_KEY, clock.now())).status == "ok"


def test_recovery_codes_are_stored_hashed_and_each_works_once(sso, alice, clock):
    user, ust = alice
    codes = enable(sso, ust)
    with reading(sso.ctx.engine) as conn:
        stored = [row.code_hash for row in conn.execute(select(recovery_codes))]
    assert len(stored) == 10 and not any(c.replace("-", "") in h or c in h for c in codes for h in stored)
    first = log_in(sso, "alice", codes[0])
    assert first.recovery_codes_left == 9
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, "alice", codes[0])
    assert log_in(sso, "alice", codes[1].replace("-", "").lower()).recovery_codes_left == 8
    assert sso.user.totp_status(CID, None, first.ust, APP, ADDR).recovery_codes_left == 8
    assert audit_of(sso, user["user_id"], "login")[-1]["changes"] == {"recovery_codes_left": {"old": 9, "new": 8}}


def test_regenerating_recovery_codes_replaces_the_old_ones(sso, alice, clock):
    user, ust = alice
    old = enable(sso, ust)
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.regenerate_recovery_codes(CID, "Not-My-Password-1", ust, APP, ADDR)
    new = sso.user.regenerate_recovery_codes(CID, PASSWORD, ust, APP, ADDR)
    assert len(new) == 10 and not set(new) & set(old)
    with refused(Kind.forbidden, Code.auth_invalid):
        log_in(sso, "alice", old[0])
    assert log_in(sso, "alice", new[0]).status == "ok"
    assert audit_of(sso, user["user_id"])[-2]["action"] == "recovery_codes"


def test_recovery_codes_need_totp_on(sso, alice):
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.regenerate_recovery_codes(CID, PASSWORD, alice[1], APP, ADDR)
    assert set(info.value.errors) == {"is_totp_enabled"}


# --- turning it off ---------------------------------------------------------------------------------------------


def test_turning_ones_own_totp_off_needs_the_password(sso, alice, clock):
    user, ust = alice
    enable(sso, ust)
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.disable_totp(CID, None, "Not-My-Password-1", ust, APP, ADDR)
    assert row_of(sso, user["user_id"])["is_totp_enabled"] is True
    assert sso.user.disable_totp(CID, None, PASSWORD, ust, APP, ADDR)["is_totp_enabled"] is False
    assert log_in(sso, "alice").status == "ok"


def test_a_super_user_turns_anyones_totp_off_and_a_regular_user_cannot(sso, bob, admin, alice, unchanged):
    nothing_written = unchanged(bob["user_id"])
    with refused(Kind.forbidden, Code.invalid_input):
        sso.user.disable_totp(CID, bob["user_id"], None, alice[1], APP, ADDR)
    nothing_written()
    status = sso.user.totp_status(CID, bob["user_id"], admin[1], APP, ADDR)
    assert (status.is_enabled, status.has_key) == (True, True)
    sso.user.disable_totp(CID, bob["user_id"], None, admin[1], APP, ADDR)
    assert sso.user.totp_status(CID, bob["user_id"], admin[1], APP, ADDR).is_enabled is False
    assert log_in(sso, "bob").status == "ok"


# --- the command line ---------------------------------------------------------------------------------------------


def test_cli_reset_totp_key_generates_or_sets_a_key_and_prints_it(app, sso, make_user, as_admin, clock):
    user = make_user("ivan")
    runner = app.test_cli_runner()
    done = runner.invoke(args=["sso", "reset-totp-key", "ivan"])
    assert done.exit_code == 0, done.output
    printed = done.output.split("TOTP key of ivan: ")[1].split()[0]
    assert decrypted(stored_key(sso, user["user_id"])) == printed
    assert "Two-factor sign-in is off" in done.output
    done = runner.invoke(args=["sso", "reset-totp-key", "IVAN", "--key", KEY.lower()])
    assert done.exit_code == 0 and f"TOTP key of ivan: {KEY}" in done.output
    assert audit_of(sso, user["user_id"], "update")[-1]["channel"] == "cli"
    as_admin(user["user_id"], {"is_totp_enabled": True})
    assert log_in(sso, "ivan", code(KEY, clock.now())).status == "ok"
    for args, message in ((["nobody"], "no user has this username"), (["ivan", "--key", "short"], "totp_key")):
        done = runner.invoke(args=["sso", "reset-totp-key", *args])
        assert done.exit_code != 0 and message in done.output
