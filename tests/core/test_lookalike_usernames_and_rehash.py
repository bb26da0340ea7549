"""Look-alike usernames, NUL-ended datetimes and the rehash at login, in the service layer (issue 12)."""

from __future__ import annotations

import unicodedata

import pytest

from webapp.sso import Code, Kind

from ..server import TEST_SCRYPT_N
from .helpers import ADDR, APP, CID, PASSWORD, audit_of, refused, row_of


@pytest.fixture
def create(sso, admin):
    _, ust = admin

    def make(username: str) -> dict:
        return sso.user.create_user(
            CID, {"username": username, "password": PASSWORD, "auto_approve": True}, ust, APP, ADDR
        )

    return make


@pytest.mark.parametrize(
    "composed, decomposed", [("jos\u00e9", "jose\u0301"), ("Alice", "\uff21lice"), ("ﬁnn", "finn")]
)
def test_a_username_is_stored_nfkc_and_its_other_forms_are_taken(create, composed, decomposed):
    first = create(decomposed)
    assert first["username"] == unicodedata.normalize("NFKC", decomposed)
    with refused(Kind.conflict, Code.username_exists):
        create(composed)


@pytest.mark.parametrize(
    "hidden", ["root\u200b1", "a\u202eb", "\ufeffbom", "x\u2066y", "soft\u00adhyphen", "priv\ue000", "line\u2028sep"]
)
def test_a_username_with_invisible_or_direction_characters_is_refused_naming_the_field(create, sso, admin, hidden):
    with refused(Kind.invalid, Code.invalid_input) as info:
        create(hidden)
    assert list(info.value.errors) == ["username"]
    with refused(Kind.invalid, Code.invalid_input):
        sso.user.update_current_user(CID, {"username": hidden}, admin[1], APP, ADDR)


def test_a_user_signs_in_with_any_normalisation_of_their_name(create, sso):
    create("jos\u00e9")
    assert sso.user.login(CID, "JOSE\u0301", PASSWORD, APP, ADDR).status == "ok"


@pytest.mark.parametrize("value", ["2030-01-31T12:00:00\x00", "2030-01-31T12:00:00Z\x00junk", "2030-01-31T12:00\x00"])
def test_a_datetime_with_a_nul_is_refused(sso, admin, alice, value):
    user, _ = alice
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.update_user_by_id(CID, user["user_id"], {"password_expiry": value}, admin[1], APP, ADDR)
    assert list(info.value.errors) == ["password_expiry"]


def test_a_weaker_hash_is_made_again_at_the_next_successful_login(make_app, make_user):
    bob = make_user("bob")  # hashed at the suite's cost, N=2^10
    assert row_of_hash(make_app, bob).startswith(f"scrypt${TEST_SCRYPT_N}$8$1$")
    stronger = make_app(SSO_SCRYPT_N=TEST_SCRYPT_N * 4).extensions["sso"]
    with refused(Kind.forbidden, Code.auth_invalid):
        stronger.user.login(CID, "bob", "Wrong-Password-1", APP, ADDR)
    assert row_of(stronger, bob["user_id"])["password_hash"].startswith(f"scrypt${TEST_SCRYPT_N}$")
    stronger.user.login(CID, "bob", PASSWORD, APP, ADDR)
    row = row_of(stronger, bob["user_id"])
    assert row["password_hash"].startswith(f"scrypt${TEST_SCRYPT_N * 4}$8$1$") and row["version"] == bob.version
    (login,) = audit_of(stronger, bob["user_id"], "login")
    assert login["changes"] == {
        "password_hash": {"old": f"scrypt N={TEST_SCRYPT_N} r=8 p=1", "new": f"scrypt N={TEST_SCRYPT_N * 4} r=8 p=1"}
    }
    stronger.user.login(CID, "bob", PASSWORD, APP, ADDR)  # once is enough
    assert row_of(stronger, bob["user_id"])["password_hash"] == row["password_hash"]
    assert audit_of(stronger, bob["user_id"], "login")[-1]["changes"] == {}
    weaker = make_app(SSO_SCRYPT_N=TEST_SCRYPT_N).extensions["sso"]  # never down again
    weaker.user.login(CID, "bob", PASSWORD, APP, ADDR)
    assert row_of(weaker, bob["user_id"])["password_hash"] == row["password_hash"]


def row_of_hash(make_app, user) -> str:
    return row_of(make_app().extensions["sso"], user["user_id"])["password_hash"]


def test_the_default_cost_is_owasp_minimum():
    from webapp.config import from_environment

    assert from_environment("/tmp", {})["SSO_SCRYPT_N"] == 2**17
