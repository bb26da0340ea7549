"""SPEC §5 sessions and USTs: Fernet tokens over a random id, of which only a hash is stored."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from cryptography.fernet import Fernet

from webapp.sso import Code, Kind

from .helpers import ADDR, APP, CID, PASSWORD, frozen_clock, refused, session_rows


def whoami(sso, ust) -> str:
    return sso.user.get_current_user(CID, ust, APP, ADDR)["username"]


def test_a_tampered_ust_is_refused(sso, alice):
    _, ust = alice
    for position in (10, len(ust) // 2, len(ust) - 5):
        swapped = "B" if ust[position] == "A" else "A"
        with refused(Kind.unauthenticated, Code.session_invalid):
            whoami(sso, ust[:position] + swapped + ust[position + 1 :])
    assert whoami(sso, ust) == "alice"


def test_a_ust_expires_after_the_session_lifetime(sso, alice):
    _, ust = alice
    clock = frozen_clock(sso)
    clock(seconds=3590)
    assert whoami(sso, ust) == "alice"
    clock(seconds=20)
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, ust)


def test_renewing_extends_the_session_by_its_lifetime(sso, alice):
    _, ust = alice
    clock = frozen_clock(sso)
    renewed_at = clock(minutes=50)
    assert sso.user.renew(CID, ust, APP, ADDR) == renewed_at + timedelta(seconds=3600)
    clock(minutes=59)
    assert whoami(sso, ust) == "alice"
    clock(minutes=2)
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, ust)
    with refused(Kind.unauthenticated, Code.session_invalid):
        sso.user.renew(CID, ust, APP, ADDR)


def test_a_locked_user_cannot_renew_a_session(sso, admin, alice):
    user, ust = alice
    sso.user.update_user_by_id(CID, user["user_id"], {"is_locked": True}, admin[1], APP, ADDR)
    with refused(Kind.forbidden, Code.user_locked):
        sso.user.renew(CID, ust, APP, ADDR)


def test_logging_out_ends_only_that_session(sso, alice, login):
    _, ust = alice
    other = login("alice")
    sso.user.logout(CID, ust, APP, ADDR)
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, ust)
    assert whoami(sso, other) == "alice"


def test_logging_out_always_succeeds_so_usts_cannot_be_probed(sso, alice):
    _, ust = alice
    for junk in (None, "", "garbage", 42, ust + "x"):
        assert sso.user.logout(CID, junk, APP, ADDR) is None
    sso.user.logout(CID, ust, APP, ADDR)
    sso.user.logout(CID, ust, APP, ADDR)


def test_a_ust_made_under_an_old_key_still_works_after_rotation(make_app, db_url):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = make_app(SSO_FERNET_KEYS=[old]).extensions["sso"]
    before.operator.create_local("bob", PASSWORD, super_user=False)
    old_ust = before.user.login(CID, "bob", PASSWORD, APP, ADDR).ust

    after = make_app(SSO_FERNET_KEYS=[new, old]).extensions["sso"]
    assert whoami(after, old_ust) == "bob"
    new_ust = after.user.login(CID, "bob", PASSWORD, APP, ADDR).ust
    assert whoami(after, new_ust) == "bob"
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(before, new_ust)  # new tokens are signed with the first key

    retired = make_app(SSO_FERNET_KEYS=[new]).extensions["sso"]
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(retired, old_ust)
    assert whoami(retired, new_ust) == "bob"


def test_a_ust_made_with_an_unknown_key_is_refused(sso, alice):
    _user, _ = alice
    stranger = Fernet(Fernet.generate_key()).encrypt(b"some-session-id").decode()
    with refused(Kind.unauthenticated, Code.session_invalid):
        whoami(sso, stranger)


def test_the_database_stores_only_a_hash_of_the_session_id(sso, alice, login):
    from ..conftest import FERNET_KEY

    user, ust = alice
    ust_2 = login("alice")
    stored = session_rows(sso, user["user_id"])
    assert len(stored) == 2
    every_value = " ".join(str(value) for row in stored for value in row.values())
    for token in (ust, ust_2):
        session_id = Fernet(FERNET_KEY).decrypt(token.encode()).decode()
        assert token not in every_value and session_id not in every_value
        assert hashlib.sha256(session_id.encode()).hexdigest() in {row["session_hash"] for row in stored}
