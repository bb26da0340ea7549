"""An administrator's emails to a user (issue 27, SPEC §19) on both databases: a password-reset link, the sign-up
confirmation again, a verify-email link; each received by a real SMTP server (through the outbox and its worker),
its link working, audited; refused where it makes no sense; throttled per user; and as a bulk action."""

from __future__ import annotations

import uuid

import pytest

from webapp.sso import Call, Code, Kind

from ..mailbox import link_in, text_of, token_in
from .conftest import PUBLIC
from .helpers import ADDR, APP, CID, PASSWORD, audit_of, refused, row_of, settle

pytestmark = pytest.mark.emails(SSO_SIGNUP_APPS=["CRM"])
NEW_PASSWORD = "Brand-New-Horse-31"
NOBODY = "zusr" + "a" * 24


def serve(sso, ust):
    return sso.serve(Call(cid=CID, ust=ust, current_app=APP, remote_addr=ADDR, channel="api"))


@pytest.fixture
def person(make_user, as_admin):
    """An approved user with an email address of their own."""

    def make(**attributes):
        name = f"person.{uuid.uuid4().hex[:8]}"
        user = make_user(name)
        email = f"{name}@example.com"
        as_admin(user["user_id"], {"email": email, **attributes})
        return {**user, "email": email}

    return make


@pytest.fixture
def unconfirmed(sso):
    """A sign-up waiting for its confirmation (its first link was handed to the calling app, not mailed)."""

    def make():
        name = f"new.{uuid.uuid4().hex[:8]}"
        email = f"{name}@example.com"
        signed_up = sso.serve(Call(cid=CID, current_app="CRM", remote_addr=ADDR)).signup(
            {"username": name, "password": PASSWORD, "email": email, "app_list": ["CRM"]}
        )
        return {"user_id": signed_up.user_id, "username": name, "email": email}

    return make


def test_a_password_reset_link_sent_by_an_administrator_arrives_and_sets_a_password(sso, admin, person, mailbox):
    me, ust = admin
    user = person()
    sent = serve(sso, ust).send_admin_email(user["user_id"], "password_reset")
    assert (sent.email, sent.kind) == (user["email"], "password_reset")
    message = mailbox.for_(user["email"])
    assert message["Subject"] == "Choose a new Example Accounts password"
    assert message["Message-ID"] == sent.message_id
    assert "An administrator of Example Accounts sent you this link" in text_of(message)
    assert link_in(message).startswith(f"{PUBLIC}/password/reset/")
    anyone = sso.serve(Call(cid=CID, current_app=APP, remote_addr=ADDR))
    anyone.reset_password_from_link(token_in(message), NEW_PASSWORD)
    assert sso.user.login(CID, user["username"], NEW_PASSWORD, APP, ADDR).ust
    [record] = audit_of(sso, user["user_id"], "reset_link_sent")
    assert (record["actor_id"], record["channel"]) == (me["user_id"], "api")
    assert record["changes"] == {"email_sent": {"old": None, "new": user["email"]}}


def test_the_sign_up_confirmation_sent_again_confirms_the_account(sso, admin, unconfirmed, mailbox):
    _, ust = admin
    user = unconfirmed()
    serve(sso, ust).send_admin_email(user["user_id"], "signup_confirmation")
    message = mailbox.for_(user["email"])
    assert message["Subject"] == "Confirm your Example Accounts account"
    assert "an administrator sent you this link again" in text_of(message)
    assert link_in(message).startswith(f"{PUBLIC}/signup/confirm/")
    sso.serve(Call(cid=CID, current_app=APP, remote_addr=ADDR)).confirm_signup(token_in(message))
    assert row_of(sso, user["user_id"])["sign_up_status"] == "final"
    assert len(audit_of(sso, user["user_id"], "signup_link_sent")) == 1
    # now it makes no sense any more: refused, naming why
    with refused(Kind.conflict, Code.signup_confirmed) as info:
        serve(sso, ust).send_admin_email(user["user_id"], "signup_confirmation")
    assert info.value.errors == {"kind": "this user's sign-up is already confirmed"}


def test_a_verify_email_link_confirms_the_address_once_and_only_while_it_is_the_same(sso, admin, person, mailbox):
    _, ust = admin
    user = person(locale="pl")
    serve(sso, ust).update_user(user["user_id"], {"required_actions": ["verify_email"]})
    serve(sso, ust).send_admin_email(user["user_id"], "verify_email")
    message = mailbox.for_(user["email"])
    assert message["Subject"] == "Potwierdź swój adres e-mail w Example Accounts"  # the recipient's language
    token = token_in(message)
    assert link_in(message) == f"{PUBLIC}/account/verify-email/{token}"  # the required action's own link
    anyone = sso.serve(Call(cid=CID, current_app=APP, remote_addr=ADDR, channel="web"))
    assert anyone.confirm_email_verification(token) == user["username"]
    [record] = audit_of(sso, user["user_id"], "email_verified")
    assert record["actor_id"] == user["user_id"]
    assert record["changes"]["email_verified"] == {"old": None, "new": user["email"]}
    assert sso.user.get_user_by_id(CID, user["user_id"], ust, APP, ADDR)["required_actions"] == []  # cleared
    with refused(Kind.invalid, Code.invalid_input):
        anyone.confirm_email_verification(token)  # used up
    # only the newest link confirms, and a link to an address the account no longer has is refused
    serve(sso, ust).send_admin_email(user["user_id"], "verify_email")
    second = token_in(mailbox.for_(user["email"], count=2))
    serve(sso, ust).send_admin_email(user["user_id"], "verify_email")
    third = token_in(mailbox.for_(user["email"], count=3))
    with refused(Kind.invalid, Code.invalid_input):
        anyone.confirm_email_verification(second)
    serve(sso, ust).update_user(user["user_id"], {"email": f"other.{uuid.uuid4().hex[:6]}@example.com"})
    with refused(Kind.invalid, Code.invalid_input):
        anyone.confirm_email_verification(third)


def test_states_where_an_email_makes_no_sense_are_refused_naming_why(sso, admin, person, make_user, unconfirmed):
    _, ust = admin
    service = serve(sso, ust)
    no_email = make_user(f"plain.{uuid.uuid4().hex[:6]}")
    locked = person()
    service.lock_user(locked["user_id"])
    waiting = unconfirmed()
    deleted = person()
    service.delete_user(deleted["user_id"])
    before = len(audit_of(sso))
    cases = [
        (no_email["user_id"], "password_reset", Kind.invalid, "this user has no email address"),
        (no_email["user_id"], "verify_email", Kind.invalid, "this user has no email address"),
        (locked["user_id"], "password_reset", Kind.invalid, "this account cannot sign in"),
        (waiting["user_id"], "password_reset", Kind.invalid, "this account cannot sign in"),
        (waiting["user_id"], "verify_email", Kind.invalid, "send the sign-up confirmation instead"),
        (locked["user_id"], "verify_email", Kind.invalid, "the link would not work"),
    ]
    for user_id, kind, error_kind, words in cases:
        with refused(error_kind, Code.invalid_input) as info:
            service.send_admin_email(user_id, kind)
        assert words in info.value.errors["kind"], (kind, info.value.errors)
    with refused(Kind.not_found, Code.user_id_unknown):
        service.send_admin_email(deleted["user_id"], "password_reset")
    with refused(Kind.invalid, Code.invalid_input) as info:
        service.send_admin_email(locked["user_id"], "welcome")
    assert "password_reset, signup_confirmation, verify_email" in info.value.errors["kind"]
    assert len(audit_of(sso)) == before  # nothing written for any refusal


def test_permissions_come_from_the_roles(sso, admin, person, unconfirmed, make_user, login):
    _, ust = admin
    helper = make_user(f"desk.{uuid.uuid4().hex[:6]}")
    serve(sso, ust).grant_role(helper["user_id"], "helpdesk")  # users.credentials, not users.approve
    desk = serve(sso, login(helper["username"]))
    user = person()
    desk.send_admin_email(user["user_id"], "password_reset")
    with refused(Kind.forbidden, Code.auth_invalid):
        desk.send_admin_email(unconfirmed()["user_id"], "signup_confirmation")
    plain = make_user(f"plain.{uuid.uuid4().hex[:6]}")
    with refused(Kind.forbidden, Code.auth_invalid):
        serve(sso, login(plain["username"])).send_admin_email(user["user_id"], "password_reset")
    with refused(Kind.forbidden, Code.invalid_operation):  # never on a stronger administrator
        desk.send_admin_email(admin[0]["user_id"], "password_reset")


def test_emails_to_one_user_are_throttled_naming_the_limit(sso, admin, person, other_app):
    _, ust = admin
    service = serve(sso, ust)
    user, other = person(), person()
    for kind in ("password_reset", "verify_email", "password_reset"):
        service.send_admin_email(user["user_id"], kind)
    with refused(Kind.throttled, Code.invalid_input) as info:
        service.send_admin_email(user["user_id"], "verify_email")
    assert info.value.errors["kind"] == (
        "at most 3 emails to this user within 60 minutes (SSO_ADMIN_EMAIL_MAX_PER_USER); try again later"
    )
    assert 0 < info.value.retry_after <= 3601
    service.send_admin_email(other["user_id"], "password_reset")  # per user: someone else is not held up
    assert len(audit_of(sso, user["user_id"], "reset_link_sent")) == 2
    settle(sso)
    # a setting of 0 turns the limit off
    unlimited = other_app(SSO_ADMIN_EMAIL_MAX_PER_USER=0)
    unlimited.serve(Call(cid=CID, ust=ust, current_app=APP, remote_addr=ADDR)).send_admin_email(
        user["user_id"], "password_reset"
    )


def test_bulk_sends_each_user_their_email_and_says_who_did_not_get_one(sso, admin, person, make_user, mailbox):
    _, ust = admin
    first, second = person(), person(locale="de")
    no_email = make_user(f"plain.{uuid.uuid4().hex[:6]}")
    ids = [first["user_id"], second["user_id"], no_email["user_id"], NOBODY]
    outcomes = sso.user.bulk_action(CID, "send_password_reset", ids, ust, APP, ADDR, channel="web")
    assert [(o.user_id, o.outcome, o.message) for o in outcomes] == [
        (first["user_id"], "done", None),
        (second["user_id"], "done", None),
        (no_email["user_id"], "refused", "this user has no email address"),
        (NOBODY, "not_found", None),
    ]
    assert mailbox.for_(first["email"])["Subject"] == "Choose a new Example Accounts password"
    assert mailbox.for_(second["email"])["Subject"] == "Neues Passwort für Example Accounts wählen"
    assert [r["channel"] for r in audit_of(sso, action="reset_link_sent")] == ["web", "web"]
