"""Password reset by email (SPEC §11) on both databases: the PRT is read from the message a real SMTP server got."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Call, Code, Kind
from webapp.sso.email.worker import run_until_empty
from webapp.sso.kernel.tables import email_tokens

from ..conftest import PASSWORD
from ..mailbox import link_in, text_of, token_in
from ..server import free_port
from .conftest import PUBLIC
from .helpers import (
    ADDR,
    APP,
    CID,
    audit_of,
    frozen_clock,
    outbox_rows,
    outbox_to,
    refused,
    row_of,
    session_rows,
    settle,
)

NEW_PASSWORD = "Brand-New-Horse-31"


pytestmark = pytest.mark.emails()


@pytest.fixture
def person(make_user, as_admin):
    """An approved user with an email address of their own."""

    def make(**attributes):
        name = f"person.{uuid.uuid4().hex[:8]}"
        user = make_user(name)
        as_admin(user["user_id"], {"email": f"{name}@example.com", **attributes})
        return {**user, "email": f"{name}@example.com"}

    return make


def request_reset(sso, credential, addr=ADDR):
    return sso.user.request_password_reset(CID, credential, APP, addr)


def test_the_emailed_link_gives_a_reset_key_that_sets_the_new_password_and_ends_every_session(
    sso, person, login, mailbox, as_admin
):
    user = person()
    as_admin(user["user_id"], {"password_must_change": True})
    sso.user.login(CID, user["username"], PASSWORD, APP, ADDR, new_password="Interim-Horse-88")
    ust_a, ust_b = login(user["username"], "Interim-Horse-88"), login(user["username"], "Interim-Horse-88")
    as_admin(user["user_id"], {"password_must_change": True})

    assert request_reset(sso, user["username"]) is None
    message = mailbox.for_(user["email"], count=2)  # after the notice of the password set at sign-in
    assert message["Subject"] == "Reset your Example Accounts password"
    assert link_in(message).startswith(f"{PUBLIC}/password/reset/")
    assert "expires in 24 hours" in text_of(message) and "If it was not you" in text_of(message)
    token = token_in(message)

    reset_key = sso.user.access_password_reset(CID, token, APP, ADDR)
    sso.user.complete_password_reset(CID, token, reset_key, NEW_PASSWORD, APP, ADDR)

    row = row_of(sso, user["user_id"])
    assert row["password_must_change"] is False
    assert session_rows(sso, user["user_id"]) == []
    for ust in (ust_a, ust_b):
        with refused(Kind.unauthenticated, Code.session_invalid):
            sso.user.get_current_user(CID, ust, APP, ADDR)
    with refused(Kind.forbidden, Code.auth_invalid):
        login(user["username"], "Interim-Horse-88")
    assert login(user["username"], NEW_PASSWORD)

    records = audit_of(sso, user["user_id"])
    assert [r["action"] for r in records if r["action"].startswith(("reset", "password"))] == [
        "reset_requested",
        "password_reset",
    ]
    changes = audit_of(sso, user["user_id"], "password_reset")[0]["changes"]
    assert changes["password"] == {"old": "(not shown)", "new": "(changed)"}
    assert changes["password_must_change"] == {"old": True, "new": False}
    everything = str(audit_of(sso))
    assert token not in everything and reset_key not in everything and NEW_PASSWORD not in everything


def test_tokens_and_reset_keys_are_stored_only_as_hashes(sso, person, mailbox):
    user = person()
    request_reset(sso, user["username"])
    token = token_in(mailbox.for_(user["email"]))
    reset_key = sso.user.access_password_reset(CID, token, APP, ADDR)
    with reading(sso.ctx.engine) as conn:
        stored = str([dict(row) for row in conn.execute(select(email_tokens)).mappings()])
    assert token not in stored and reset_key not in stored


def test_an_unknown_credential_answers_exactly_like_a_known_one_and_nothing_is_sent(sso, person, mailbox):
    known = person()
    answers = [
        request_reset(sso, credential)
        for credential in (
            known["username"],
            "nobody-" + uuid.uuid4().hex,
            known["email"],
            "",
            "bad\x00name",
            "x" * 5000,
        )
    ]
    assert answers == [None] * 6
    settle(sso)
    assert len(mailbox.to(known["email"])) == 1  # by username only (SSO_PASSWORD_RESET_BY's default)
    assert [r["action"] for r in audit_of(sso) if r["action"] == "reset_requested"] == ["reset_requested"]
    with refused(Kind.invalid, Code.invalid_input):
        request_reset(sso, 42)


def test_accounts_that_may_not_log_in_get_no_link(sso, person, mailbox):
    locked, rejected, without_email = person(is_locked=True), person(approval_status="rejected"), person(email=None)
    for user in (locked, rejected, without_email):
        assert request_reset(sso, user["username"]) is None
    for user in (locked, rejected):  # (a locked one was told of the lock: SPEC §19's notification)
        assert outbox_to(sso, user["email"], "password_reset") == []


def test_the_credential_can_be_the_email_when_configured(other_app, person, mailbox):
    sso = other_app(SSO_PASSWORD_RESET_BY="email")
    user = person()
    request_reset(sso, user["username"])
    request_reset(sso, user["email"].upper())
    settle(sso)
    message = mailbox.for_(user["email"])
    assert len(mailbox.to(user["email"])) == 1 and user["username"] in text_of(message)


def test_a_token_is_single_use_and_the_reset_key_works_once(sso, person, mailbox, login):
    user = person()
    request_reset(sso, user["username"])
    token = token_in(mailbox.for_(user["email"]))
    reset_key = sso.user.access_password_reset(CID, token, APP, ADDR)
    with refused(Kind.forbidden, Code.password_reset_refused):  # accessed once only
        sso.user.access_password_reset(CID, token, APP, ADDR)
    with refused(Kind.forbidden, Code.password_reset_refused):
        sso.user.complete_password_reset(CID, token, "A" * 43, NEW_PASSWORD, APP, ADDR)
    sso.user.complete_password_reset(CID, token, reset_key, NEW_PASSWORD, APP, ADDR)
    with refused(Kind.forbidden, Code.password_reset_refused):
        sso.user.complete_password_reset(CID, token, reset_key, "Another-Horse-55", APP, ADDR)
    with refused(Kind.forbidden, Code.password_reset_refused):
        sso.user.access_password_reset(CID, token, APP, ADDR)
    assert login(user["username"], NEW_PASSWORD)


def test_a_new_password_ends_every_other_open_link(sso, person, mailbox):
    user = person()
    request_reset(sso, user["username"])
    request_reset(sso, user["username"])
    settle(sso)
    first, second = (token_in(m) for m in mailbox.to(user["email"])[-2:])
    key = sso.user.access_password_reset(CID, second, APP, ADDR)
    sso.user.complete_password_reset(CID, second, key, NEW_PASSWORD, APP, ADDR)
    with refused(Kind.forbidden, Code.password_reset_refused):
        sso.user.access_password_reset(CID, first, APP, ADDR)


def test_the_link_expires_after_the_configured_minutes_and_the_reset_key_after_30(sso, person, mailbox):
    user = person()
    clock = frozen_clock(sso)
    request_reset(sso, user["username"])
    request_reset(sso, user["username"])
    settle(sso)
    late, kept = (token_in(m) for m in mailbox.to(user["email"])[-2:])
    clock(minutes=1439)
    key = sso.user.access_password_reset(CID, kept, APP, ADDR)
    clock(minutes=2)
    with refused(Kind.forbidden, Code.password_reset_refused):
        sso.user.access_password_reset(CID, late, APP, ADDR)
    clock(minutes=29)
    with refused(Kind.forbidden, Code.password_reset_refused):  # the key lived 31 minutes
        sso.user.complete_password_reset(CID, kept, key, NEW_PASSWORD, APP, ADDR)
    assert row_of(sso, user["user_id"])["password_last_set"] < clock.now()


def test_a_password_that_breaks_the_rules_is_refused_and_the_key_still_works(sso, person, mailbox):
    user = person()
    request_reset(sso, user["username"])
    token = token_in(mailbox.for_(user["email"]))
    key = sso.user.access_password_reset(CID, token, APP, ADDR)
    for password, code in (("short", Code.password_too_short), ("My-Password-99", Code.password_rejected_word)):
        with refused(Kind.invalid, code):
            sso.user.complete_password_reset(CID, token, key, password, APP, ADDR)
    sso.user.complete_password_reset(CID, token, key, NEW_PASSWORD, APP, ADDR)


def test_a_sign_up_token_is_no_reset_token(other_app, mailbox):
    sso = other_app(SSO_SIGNUP_APPS=["CRM"])
    result = sso.user.signup(
        CID, {"username": f"n.{uuid.uuid4().hex[:6]}", "password": PASSWORD, "app_list": ["CRM"]}, APP, ADDR
    )
    with refused(Kind.forbidden, Code.password_reset_refused):
        sso.user.access_password_reset(CID, result.confirm_token, APP, ADDR)


def test_the_consoles_one_step_reset_from_the_link(sso, person, mailbox, login):
    user = person()
    request_reset(sso, user["username"])
    token = token_in(mailbox.for_(user["email"]))
    assert sso.serve(Call(cid="test")).check_password_reset_link(token) == user["username"]
    assert (
        sso.serve(Call(cid=CID, current_app=APP, remote_addr=ADDR)).reset_password_from_link(token, NEW_PASSWORD)
        == user["username"]
    )
    with refused(Kind.forbidden, Code.password_reset_refused):
        sso.serve(Call(cid="test")).check_password_reset_link(token)
    assert login(user["username"], NEW_PASSWORD)


def test_requests_are_throttled_per_credential_and_per_address(other_app, person, mailbox):
    sso = other_app(SSO_PASSWORD_RESET_MAX_REQUESTS=2, SSO_PASSWORD_RESET_MAX_PER_ADDRESS=4)
    user = person()
    for _ in range(4):
        assert request_reset(sso, user["username"], addr="10.0.0.1") is None
    settle(sso)
    assert len(mailbox.to(user["email"])) == 2

    others = [person() for _ in range(3)]
    for other in others:  # two of the address's four requests are left
        request_reset(sso, other["username"], addr="10.0.0.2")
        request_reset(sso, "unknown-" + uuid.uuid4().hex, addr="10.0.0.2")
    request_reset(sso, others[2]["username"], addr="10.0.0.3")
    settle(sso)
    assert [len(mailbox.to(o["email"])) for o in others[:2]] == [1, 1]
    mailbox.for_(others[2]["email"])
    assert len(mailbox.to(others[2]["email"])) == 1  # from 10.0.0.3; the one from 10.0.0.2 was throttled


@pytest.mark.no_delivery
def test_smtp_down_changes_nothing_in_the_answer_and_the_link_waits_until_it_is_back(other_app, sso, person, mailbox):
    """Issue 27: before the outbox this was a 503 and nothing written; now the request succeeds at once for any
    credential, the link and its token are written together, and the message arrives once SMTP answers."""
    down = other_app(SSO_SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SSO_SMTP_TIMEOUT=3)
    user = person()
    for credential in (user["username"], "nobody-" + uuid.uuid4().hex):
        assert request_reset(down, credential) is None
    assert run_until_empty(down.ctx, down.ctx.mailer) == 1  # tried once: the server is not there
    [waiting] = outbox_rows(sso)
    assert (waiting["status"], waiting["attempts"], waiting["recipient"]) == ("queued", 1, user["email"])
    assert "ConnectionRefusedError" in waiting["last_error"] and waiting["sent_time"] is None
    with reading(sso.ctx.engine) as conn:
        assert len(conn.execute(select(email_tokens)).all()) == 1
    assert len([r for r in audit_of(sso) if r["action"] == "reset_requested"]) == 1

    assert run_until_empty(sso.ctx, sso.ctx.mailer) == 1  # the module's SMTP server: it is back
    message = mailbox.for_(user["email"])
    assert message["Message-ID"] == waiting["message_id"]
    assert outbox_rows(sso)[0]["status"] == "sent"
    sso.user.access_password_reset(CID, token_in(message), APP, ADDR)
