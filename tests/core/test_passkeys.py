"""SPEC §18 passkeys through the Python API, on both databases, with real ceremonies: a software
authenticator (tests/passkey_authenticator.py) holds an EC P-256 key and signs what a browser would send;
py_webauthn on the server checks it. Nothing is mocked."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Code, Kind
from webapp.sso.credentials.passkeys import has_passkeys, relying_party_problem
from webapp.sso.kernel.tables import passkey_challenges, passkeys

from ..passkey_authenticator import SoftAuthenticator, b64
from .helpers import ADDR, APP, CID, PASSWORD, audit_of, frozen_clock, refused

ORIGIN = "http://localhost:8000"  # SSO_PUBLIC_URL's default: RP ID "localhost"


def stored(sso) -> list[dict]:
    with reading(sso.ctx.engine) as conn:
        return [dict(row) for row in conn.execute(select(passkeys).order_by(passkeys.c.id)).mappings()]


def challenges(sso) -> int:
    with reading(sso.ctx.engine) as conn:
        return len(conn.execute(select(passkey_challenges)).all())


def add_passkey(sso, ust, authenticator, name="Laptop", password=None):
    ceremony = sso.user.passkey_register_options(CID, password, ust, APP, ADDR)
    answer = authenticator.create(ceremony.options)
    return sso.user.passkey_register_verify(
        CID, ceremony.challenge_id, answer, name, ust, APP, ADDR, channel="python", user_agent=None
    )


def sign_in(sso, authenticator, **kw):
    ceremony = sso.user.passkey_login_options(CID, APP, ADDR)
    return sso.user.login_with_passkey(CID, ceremony.challenge_id, authenticator.get(ceremony.options, **kw), APP, ADDR)


@pytest.fixture
def clock(sso):
    return frozen_clock(sso)


@pytest.fixture
def key():
    return SoftAuthenticator(ORIGIN)


# --- adding --------------------------------------------------------------------------------------------------


def test_a_passkey_added_is_stored_as_a_public_key_listed_and_audited(sso, alice, key, clock):
    user, ust = alice
    ceremony = sso.user.passkey_register_options(CID, None, ust, APP, ADDR)
    options = ceremony.options
    assert options["rp"]["id"] == "localhost" and options["user"]["name"] == "alice"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["excludeCredentials"] == []
    answer = key.create(options)
    added = sso.user.passkey_register_verify(
        CID, ceremony.challenge_id, answer, "  My   laptop ", ust, APP, ADDR, channel="python", user_agent="UA"
    )
    assert (added.name, added.is_synced, added.transports, added.last_use_time) == (
        "My laptop",
        True,
        ["internal"],
        None,
    )
    assert added.aaguid == "00000000-0000-0000-0000-000000000000"
    [row] = stored(sso)
    assert row["credential_id"] == key.id and row["user_id"] == user["user_id"] and row["sign_count"] == 0
    public = key.key.public_key().public_numbers()
    assert public.x.to_bytes(32, "big") in row["public_key"]  # the COSE public key, and nothing private
    assert [p.passkey_id for p in sso.user.list_passkeys(CID, None, ust, APP, ADDR)] == [added.passkey_id]
    [entry] = audit_of(sso, user["user_id"], "passkey_add")
    assert entry["changes"] == {"passkey": {"old": None, "new": "My laptop"}} and entry["user_agent"] == "UA"
    assert challenges(sso) == 0, "the challenge is used up"
    again = sso.user.passkey_register_options(CID, None, ust, APP, ADDR).options
    assert [c["id"] for c in again["excludeCredentials"]] == [key.id], "the browser is told not to add it twice"


def test_a_device_bound_passkey_says_so(sso, alice, clock):
    added = add_passkey(sso, alice[1], SoftAuthenticator(ORIGIN, synced=False))
    assert (added.is_synced, added.is_backed_up) == (False, False)


@pytest.mark.parametrize(
    "name, message",
    [
        (None, "is required: what you call this passkey"),
        ("   ", "is required: what you call this passkey"),
        ("x" * 65, "is longer than 64 characters"),
        ("a\x00b", "must not contain control characters"),
    ],
)
def test_a_passkey_needs_a_name_of_text(sso, alice, key, clock, name, message):
    with refused(Kind.invalid, Code.invalid_input) as info:
        add_passkey(sso, alice[1], key, name=name)
    assert info.value.errors == {"name": message}
    assert stored(sso) == []


def test_another_sites_answer_or_another_rp_id_is_refused_and_nothing_stored(sso, alice, key, clock):
    ust = alice[1]
    for kw, words in (({"origin": "https://evil.example"}, "origin"), ({"rp_id": "evil.example"}, "RP ID")):
        ceremony = sso.user.passkey_register_options(CID, None, ust, APP, ADDR)
        with refused(Kind.invalid, Code.invalid_input) as info:
            sso.user.passkey_register_verify(
                CID,
                ceremony.challenge_id,
                key.create(ceremony.options, **kw),
                "x",
                ust,
                APP,
                ADDR,
                channel="python",
                user_agent=None,
            )
        assert words in info.value.errors["credential"]
    assert stored(sso) == [] and audit_of(sso, action="passkey_add") == []


@pytest.mark.parametrize(
    "answer, message",
    [
        ("not json", "is not JSON"),
        ([1, 2], "is not a WebAuthn credential (a JSON object)"),
        ("x" * 40000, "is larger than 32 KiB"),
        ({"id": "a" * 40000}, "is larger than 32 KiB"),
        ({"id": "AAAA", "rawId": "AAAA", "type": "public-key"}, None),
        (
            {
                "id": "AAAA",
                "rawId": "AAAA",
                "type": "public-key",
                "response": {"clientDataJSON": "!!", "attestationObject": "??"},
            },
            None,
        ),
        (None, "is required: your browser's answer to the passkey request"),
    ],
)
def test_malformed_answers_are_refused_naming_the_credential(sso, alice, clock, answer, message):
    ust = alice[1]
    ceremony = sso.user.passkey_register_options(CID, None, ust, APP, ADDR)
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.passkey_register_verify(
            CID, ceremony.challenge_id, answer, "x", ust, APP, ADDR, channel="python", user_agent=None
        )
    assert set(info.value.errors) == {"credential"}
    if message:
        assert info.value.errors["credential"] == message
    assert stored(sso) == []


def test_a_challenge_is_used_once_expires_and_belongs_to_its_session(sso, make_user, login, key, clock):
    make_user("alice")
    ust, other_ust = login("alice"), login("alice")
    ceremony = sso.user.passkey_register_options(CID, None, ust, APP, ADDR)
    answer = key.create(ceremony.options)

    def verify(session):
        return sso.user.passkey_register_verify(
            CID, ceremony.challenge_id, answer, "x", session, APP, ADDR, channel="python", user_agent=None
        )

    with refused(Kind.invalid, Code.invalid_input) as info:
        verify(other_ust)  # another session of the same person: not this browser's ceremony (and now used up)
    assert info.value.errors == {"challenge_id": "has expired or was used already: start again"}
    with refused(Kind.invalid, Code.invalid_input):
        verify(ust)
    ceremony = sso.user.passkey_register_options(CID, None, ust, APP, ADDR)
    answer = key.create(ceremony.options)
    clock(minutes=5, seconds=1)
    with refused(Kind.invalid, Code.invalid_input):
        verify(ust)
    assert stored(sso) == []


def test_adding_after_five_minutes_asks_for_the_password(sso, alice, key, clock):
    ust = alice[1]
    clock(minutes=5, seconds=1)
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        sso.user.passkey_register_options(CID, None, ust, APP, ADDR)
    assert "sign-in within the last 5 minutes" in info.value.errors["password"]
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        sso.user.passkey_register_options(CID, "wrong", ust, APP, ADDR)
    assert info.value.errors == {"password": "is not your current password"}
    add_passkey(sso, ust, key, password=PASSWORD)
    assert len(stored(sso)) == 1


# --- signing in ----------------------------------------------------------------------------------------------


def test_a_passkey_alone_signs_in_without_a_username(sso, alice, key, clock):
    user, ust = alice
    added = add_passkey(sso, ust, key)
    clock(minutes=1)
    ceremony = sso.user.passkey_login_options(CID, APP, ADDR)
    assert ceremony.options["allowCredentials"] == [] and ceremony.options["userVerification"] == "required"
    result = sso.user.login_with_passkey(CID, ceremony.challenge_id, key.get(ceremony.options), APP, ADDR, "UA")
    assert result.user_id == user["user_id"]
    assert sso.user.get_current_user(CID, result.ust, APP, ADDR)["username"] == "alice"
    [row] = stored(sso)
    assert (row["sign_count"], row["last_use_time"]) == (1, sso.ctx.clock())
    login = audit_of(sso, user["user_id"], "login")[-1]
    assert login["changes"] == {"passkey": {"old": None, "new": "Laptop"}}
    assert sso.user.list_passkeys(CID, None, ust, APP, ADDR)[0].last_use_time == sso.ctx.clock()
    assert added.passkey_id == row["passkey_id"]


def test_an_answer_replayed_or_after_expiry_is_refused(sso, alice, key, clock):
    add_passkey(sso, alice[1], key)
    ceremony = sso.user.passkey_login_options(CID, APP, ADDR)
    answer = key.get(ceremony.options)
    sso.user.login_with_passkey(CID, ceremony.challenge_id, answer, APP, ADDR)
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.login_with_passkey(CID, ceremony.challenge_id, answer, APP, ADDR)
    assert set(info.value.errors) == {"challenge_id"}
    ceremony = sso.user.passkey_login_options(CID, APP, ADDR)
    answer = key.get(ceremony.options)
    clock(minutes=5, seconds=1)
    with refused(Kind.invalid, Code.invalid_input):
        sso.user.login_with_passkey(CID, ceremony.challenge_id, answer, APP, ADDR)


def test_an_unknown_passkey_a_bad_signature_or_another_site_is_refused_as_a_wrong_password(sso, alice, key, clock):
    add_passkey(sso, alice[1], key)
    stranger = SoftAuthenticator(ORIGIN)
    stranger.user_handle = key.user_handle
    ceremony = sso.user.passkey_login_options(CID, APP, ADDR)
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.login_with_passkey(CID, ceremony.challenge_id, stranger.get(ceremony.options), APP, ADDR)
    forged = SoftAuthenticator(ORIGIN)
    forged.credential_id = key.credential_id  # the right id, another key
    for answer_of in (
        lambda options: forged.get(options),
        lambda options: key.get(options, origin="https://evil.example"),
        lambda options: key.get(options, rp_id="evil.example"),
    ):
        ceremony = sso.user.passkey_login_options(CID, APP, ADDR)
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.login_with_passkey(CID, ceremony.challenge_id, answer_of(ceremony.options), APP, ADDR)
    assert stored(sso)[0]["last_use_time"] is None


def test_a_sign_count_going_backwards_is_refused_and_audited_as_a_cloned_passkey(sso, alice, key, clock):
    user = alice[0]
    add_passkey(sso, alice[1], key)
    sign_in(sso, key, sign_count=7)
    with refused(Kind.forbidden, Code.auth_invalid):
        sign_in(sso, key, sign_count=3)  # a copy of the key that has signed less
    [cloned] = audit_of(sso, user["user_id"], "passkey_cloned")
    assert cloned["changes"] == {"passkey": {"old": "Laptop", "new": "Laptop"}, "sign_count": {"old": 7, "new": 3}}
    assert stored(sso)[0]["sign_count"] == 7
    sign_in(sso, key, sign_count=8)


def test_without_user_verification_a_passkey_is_not_a_whole_sign_in(sso, alice, clock):
    key = SoftAuthenticator(ORIGIN, user_verified=False)
    add_passkey(sso, alice[1], key)
    with refused(Kind.forbidden, Code.auth_invalid):
        sign_in(sso, key)


def test_passwordless_sign_in_can_be_turned_off(sso, alice, key, clock):
    add_passkey(sso, alice[1], key)
    sso.ctx.settings["SSO_PASSKEY_PASSWORDLESS"] = False
    with refused(Kind.forbidden, Code.invalid_operation):
        sso.user.passkey_login_options(CID, APP, ADDR)
    sso.user.passkey_login_options(CID, APP, ADDR, second_factor=True)


@pytest.mark.parametrize(
    "attrs",
    [{"is_locked": True}, {"approval_status": "rejected"}, {"sign_up_status": "before_confirmation"}],
    ids=["locked", "rejected", "unconfirmed"],
)
def test_a_user_who_may_not_sign_in_is_refused_as_with_a_password(sso, alice, as_admin, key, clock, attrs):
    user = alice[0]
    add_passkey(sso, alice[1], key)
    as_admin(user["user_id"], attrs)
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.login(CID, "alice", PASSWORD, APP, ADDR)
    with refused(Kind.forbidden, Code.auth_invalid):
        sign_in(sso, key)


def test_a_paused_sign_in_is_paused_for_passkeys_too(sso, alice, key, clock):
    add_passkey(sso, alice[1], key)
    for _ in range(5):
        with refused(Kind.forbidden, Code.auth_invalid):
            sso.user.login(CID, "alice", "wrong", APP, ADDR)
    with refused(Kind.throttled, Code.auth_invalid) as password_pause:
        sso.user.login(CID, "alice", PASSWORD, APP, ADDR)
    with refused(Kind.throttled, Code.auth_invalid) as passkey_pause:
        sign_in(sso, key)
    assert passkey_pause.value.retry_after == password_pause.value.retry_after
    assert "sign-in paused" in passkey_pause.value.errors["credential"]


def test_unknown_passkeys_are_counted_like_wrong_passwords(sso, clock):
    for _ in range(5):
        with refused(Kind.forbidden, Code.auth_invalid):
            sign_in(sso, SoftAuthenticator(ORIGIN))
    with refused(Kind.throttled, Code.auth_invalid):
        sign_in(sso, SoftAuthenticator(ORIGIN))


def test_a_password_that_must_change_is_changed_by_signing_in_with_it(sso, alice, as_admin, key, clock):
    add_passkey(sso, alice[1], key)
    as_admin(alice[0]["user_id"], {"password_must_change": True})
    with refused(Kind.forbidden, Code.password_must_change):
        sign_in(sso, key)


# --- the second factor ---------------------------------------------------------------------------------------


def test_a_passkey_stands_in_for_the_totp_code(sso, alice, as_admin, make_user, key, clock):
    user, ust = alice
    add_passkey(sso, ust, key)
    other = SoftAuthenticator(ORIGIN)
    add_passkey(sso, sso.user.login(CID, "alice", PASSWORD, APP, ADDR).ust, other, name="Phone")
    as_admin(user["user_id"], {"totp_key": "KMCLCWN4YPMD2WO3", "is_totp_enabled": True})
    with refused(Kind.forbidden, Code.totp_missing):
        sso.user.login(CID, "alice", PASSWORD, APP, ADDR)

    def second_factor(authenticator, username="alice"):
        ceremony = sso.user.passkey_login_options(CID, APP, ADDR, second_factor=True)
        assert ceremony.options["userVerification"] == "preferred"
        answer = {"challenge_id": ceremony.challenge_id, "credential": authenticator.get(ceremony.options)}
        return sso.user.login(CID, username, PASSWORD, APP, ADDR, passkey=answer)

    result = second_factor(other)
    assert sso.user.get_current_user(CID, result.ust, APP, ADDR)["username"] == "alice"
    assert audit_of(sso, user["user_id"], "login")[-1]["changes"] == {"passkey": {"old": None, "new": "Phone"}}
    second_factor(key)
    # bob's password and alice's passkey: refused, and counted
    bob = make_user("bob")
    as_admin(bob["user_id"], {"totp_key": "KMCLCWN4YPMD2WO3", "is_totp_enabled": True})
    with refused(Kind.forbidden, Code.auth_invalid):
        second_factor(key, "bob")
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.login(
            CID,
            "alice",
            PASSWORD,
            APP,
            ADDR,
            passkey={"challenge_id": "gone", "credential": key.get({"challenge": b64(b"x"), "rpId": "localhost"})},
        )
    assert set(info.value.errors) == {"challenge_id"}


# --- rename, remove, administrators --------------------------------------------------------------------------


def test_renaming_is_audited_and_only_for_ones_own(sso, alice, make_user, login, key, clock):
    added = add_passkey(sso, alice[1], key)
    renamed = sso.user.rename_passkey(CID, added.passkey_id, "Work laptop", alice[1], APP, ADDR)
    assert renamed.name == "Work laptop" and stored(sso)[0]["name"] == "Work laptop"
    assert audit_of(sso, alice[0]["user_id"], "passkey_rename")[0]["changes"] == {
        "passkey": {"old": "Laptop", "new": "Work laptop"}
    }
    sso.user.rename_passkey(CID, added.passkey_id, "Work laptop", alice[1], APP, ADDR)
    assert len(audit_of(sso, action="passkey_rename")) == 1, "the same name writes nothing"
    make_user("bob")
    with refused(Kind.not_found, Code.invalid_input):
        sso.user.rename_passkey(CID, added.passkey_id, "Mine", login("bob"), APP, ADDR)


def test_removing_ones_own_needs_a_recent_sign_in_and_is_audited(sso, alice, key, clock):
    user, ust = alice
    added = add_passkey(sso, ust, key)
    clock(minutes=6)
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        sso.user.remove_passkey(CID, added.passkey_id, ust, APP, ADDR)
    assert set(info.value.errors) == {"password"} and len(stored(sso)) == 1
    sso.user.remove_passkey(CID, added.passkey_id, ust, APP, ADDR, password=PASSWORD)
    assert stored(sso) == []
    assert audit_of(sso, user["user_id"], "passkey_remove")[0]["changes"] == {"passkey": {"old": "Laptop", "new": None}}
    with refused(Kind.forbidden, Code.auth_invalid):
        sign_in(sso, key)


def test_a_super_user_sees_and_removes_a_users_passkeys_and_others_cannot(
    sso, alice, admin, make_user, login, key, clock
):
    user, ust = alice
    added = add_passkey(sso, ust, key)
    admin_user, admin_ust = admin
    clock(minutes=30)  # an administrator's own sign-in age does not matter for someone else's passkey
    [seen] = sso.user.list_passkeys(CID, user["user_id"], admin_ust, APP, ADDR)
    assert seen.name == "Laptop" and "public_key" not in json.dumps(seen.to_dict())
    make_user("bob")
    bob_ust = login("bob")
    with refused(Kind.forbidden, Code.auth_invalid):
        sso.user.list_passkeys(CID, user["user_id"], bob_ust, APP, ADDR)
    with refused(Kind.not_found, Code.invalid_input):
        sso.user.remove_passkey(CID, added.passkey_id, bob_ust, APP, ADDR, password=PASSWORD)
    with refused(Kind.not_found, Code.user_id_unknown):
        sso.user.list_passkeys(CID, "zusrnobody", admin_ust, APP, ADDR)
    sso.user.remove_passkey(CID, added.passkey_id, admin_ust, APP, ADDR, user_id=user["user_id"])
    [removed] = audit_of(sso, user["user_id"], "passkey_remove")
    assert removed["actor_id"] == admin_user["user_id"]
    assert sso.user.list_passkeys(CID, user["user_id"], admin_ust, APP, ADDR) == []


def test_a_user_with_a_passkey_has_a_second_factor(sso, alice, key, clock):
    def second_factor() -> bool:
        with reading(sso.ctx.engine) as conn:
            return has_passkeys(conn, alice[0]["user_id"])

    assert second_factor() is False
    add_passkey(sso, alice[1], key)
    assert second_factor() is True


def test_deleting_a_user_deletes_their_passkeys(sso, alice, admin, key, clock):
    add_passkey(sso, alice[1], key)
    sso.user.delete_user(CID, alice[0]["user_id"], admin[1], APP, ADDR)
    assert stored(sso) == []


def test_a_password_of_the_wrong_type_is_refused_not_ignored(sso, alice, clock):
    # found by the fuzz test: a number as `password` was ignored while the sign-in was recent
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.passkey_register_options(CID, 12345, alice[1], APP, ADDR)
    assert info.value.errors == {"password": "must be a string"}


def test_a_passkey_at_login_must_be_an_object_even_without_two_factor(sso, alice):
    # found by the fuzz test: a user without TOTP had a malformed `passkey` accepted and ignored
    with refused(Kind.malformed, Code.invalid_input) as info:
        sso.user.login(CID, "alice", PASSWORD, APP, ADDR, passkey="not an object")
    assert set(info.value.errors) == {"passkey"}


def reauth_answer(sso, ust, authenticator, **kw) -> dict:
    ceremony = sso.user.passkey_reauth_options(CID, ust, APP, ADDR)
    return {"challenge_id": ceremony.challenge_id, "credential": authenticator.get(ceremony.options, **kw)}


def test_after_five_minutes_ones_own_passkey_confirms_it_instead_of_the_password(sso, alice, key, clock):
    _user, ust = alice
    added = add_passkey(sso, ust, key)
    clock(minutes=6)
    options = sso.user.passkey_reauth_options(CID, ust, APP, ADDR).options
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    second = SoftAuthenticator(ORIGIN)
    ceremony = sso.user.passkey_register_options(CID, None, ust, APP, ADDR, reauth=reauth_answer(sso, ust, key))
    sso.user.passkey_register_verify(
        CID, ceremony.challenge_id, second.create(ceremony.options), "Phone", ust, APP, ADDR
    )
    sso.user.remove_passkey(CID, added.passkey_id, ust, APP, ADDR, reauth=reauth_answer(sso, ust, second))
    assert [row["name"] for row in stored(sso)] == ["Phone"]
    assert stored(sso)[0]["sign_count"] == second.sign_count and stored(sso)[0]["last_use_time"] == sso.ctx.clock()


def test_a_passkey_of_someone_else_or_a_stale_answer_does_not_confirm_it(sso, alice, make_user, login, key, clock):
    _user, ust = alice
    add_passkey(sso, ust, key)
    make_user("bob")
    bob_ust = login("bob")
    bobs = SoftAuthenticator(ORIGIN)
    add_passkey(sso, bob_ust, bobs, name="Bob's")
    clock(minutes=6)
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        sso.user.passkey_register_options(CID, None, ust, APP, ADDR, reauth=reauth_answer(sso, ust, bobs))
    assert info.value.errors == {"passkey": "did not confirm it is you: try again"}
    bobs_ceremony = reauth_answer(sso, bob_ust, bobs)  # bob's own challenge, in alice's session: not hers
    with refused(Kind.invalid, Code.invalid_input) as info:
        sso.user.passkey_register_options(CID, None, ust, APP, ADDR, reauth=bobs_ceremony)
    assert set(info.value.errors) == {"challenge_id"}
    answer = reauth_answer(sso, ust, key)
    sso.user.passkey_register_options(CID, None, ust, APP, ADDR, reauth=answer)
    with refused(Kind.invalid, Code.invalid_input):  # used once
        sso.user.passkey_register_options(CID, None, ust, APP, ADDR, reauth=answer)
    with refused(Kind.malformed, Code.invalid_input):
        sso.user.passkey_register_options(CID, None, ust, APP, ADDR, reauth="yes")


@pytest.mark.parametrize(
    "public_url, problem",
    [
        ("http://127.0.0.1:8000", "is an IP address"),
        ("https://[::1]", "is an IP address"),
        ("http://sso.example.com", "is not HTTPS"),
        ("http://localhost:8000", None),
        ("https://sso.example.com", None),
    ],
)
def test_an_address_browsers_refuse_passkeys_at_is_named_at_start(public_url, problem):
    found = relying_party_problem({"SSO_PUBLIC_URL": public_url})
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
