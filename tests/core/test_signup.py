"""Sign-up and confirmation (SPEC §11) on both databases, with a real SMTP server on loopback."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Call, Code, Kind
from webapp.sso.email.worker import run_until_empty
from webapp.sso.kernel.tables import email_tokens

from ..conftest import PASSWORD
from ..mailbox import html_of, link_in, text_of, token_in
from ..server import free_port
from .conftest import PUBLIC
from .helpers import ADDR, APP, CID, audit_of, count_users, frozen_clock, outbox_rows, outbox_to, refused, row_of

pytestmark = pytest.mark.emails(SSO_SIGNUP_APPS=["CRM"])


def new_name(prefix: str = "new") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def sign_up(sso, app_name: str = APP, *, send_link: bool = False, **data):
    body = {"username": new_name(), "password": PASSWORD, "app_list": ["CRM"], **data}
    return sso.user.signup(CID, body, app_name, ADDR, send_link=send_link)


def test_a_new_account_waits_for_confirmation_and_then_for_approval(sso, login):
    result = sign_up(sso, email=f"{new_name()}@example.com", display_name="New Person")
    row = row_of(sso, result.user_id)
    assert (row["sign_up_status"], row["approval_status"]) == ("before_confirmation", "before_decision")
    assert row["approval_status_mod_by"] is None and row["password_is_set"] and row["display_name"] == "New Person"
    with refused(Kind.forbidden, Code.auth_invalid):
        login(row["username"])

    confirmed = sso.user.confirm_signup(CID, result.confirm_token, APP, ADDR)
    assert confirmed.approval_status == "before_decision"
    assert row_of(sso, result.user_id)["sign_up_status"] == "final"
    with refused(Kind.forbidden, Code.auth_invalid):  # still waiting for an administrator
        login(row["username"])
    actions = [record["action"] for record in audit_of(sso, result.user_id)]
    assert actions == ["signup", "confirm_signup"]
    assert result.confirm_token not in str(audit_of(sso))


def test_without_approval_needed_a_confirmed_account_logs_in_and_was_approved_by_auto(other_app, mailbox):
    sso = other_app(SSO_SIGNUP_APPROVAL_NEEDED=False)
    result = sign_up(sso)
    row = row_of(sso, result.user_id)
    assert (row["approval_status"], row["approval_status_mod_by"]) == ("approved", "auto")
    with refused(Kind.forbidden, Code.auth_invalid):  # not confirmed yet
        sso.user.login(CID, row["username"], PASSWORD, APP, ADDR)
    sso.user.confirm_signup(CID, result.confirm_token, APP, ADDR)
    assert sso.user.login(CID, row["username"], PASSWORD, APP, ADDR).ust


def test_a_token_confirms_once_and_an_unknown_or_expired_one_not_at_all(sso):
    first = sign_up(sso)
    sso.user.confirm_signup(CID, first.confirm_token, APP, ADDR)
    with refused(Kind.conflict, Code.signup_confirmed):
        sso.user.confirm_signup(CID, first.confirm_token, APP, ADDR)
    for token in (
        "x" * 43,
        first.confirm_token[:-1] + ("B" if first.confirm_token.endswith("A") else "A"),
        "",
        None,
        42,
        "bad\x00token",
    ):
        with refused(Kind.not_found, Code.no_such_signup_token):
            sso.user.confirm_signup(CID, token, APP, ADDR)

    clock = frozen_clock(sso)
    late = sign_up(sso)
    clock(hours=47, minutes=59)
    assert sso.serve(Call(cid="test")).check_signup_link(late.confirm_token) == row_of(sso, late.user_id)["username"]
    clock(minutes=2)
    with refused(Kind.not_found, Code.no_such_signup_token):
        sso.user.confirm_signup(CID, late.confirm_token, APP, ADDR)
    assert row_of(sso, late.user_id)["sign_up_status"] == "before_confirmation"


def test_the_token_is_stored_only_as_a_hash(sso):
    result = sign_up(sso)
    with reading(sso.ctx.engine) as conn:
        stored = [dict(row) for row in conn.execute(select(email_tokens)).mappings()]
    assert stored and result.confirm_token not in str(stored)


def test_sign_up_is_open_only_to_the_sign_up_apps(sso):
    before = count_users(sso)
    with refused(Kind.forbidden, Code.no_signup):
        sign_up(sso, "Console", app_list=["Console"])
    with refused(Kind.forbidden, Code.no_signup):
        sign_up(sso, app_list=["CRM", "Console"])
    with refused(Kind.forbidden, Code.app_not_allowed):
        sign_up(sso, app_list=["NoSuchApp"])
    with refused(Kind.forbidden, Code.app_not_allowed):
        sign_up(sso, "NoSuchApp")
    for bad in ([], "CRM", [1]):
        with refused(Kind.invalid, Code.invalid_input):
            sign_up(sso, app_list=bad)
    assert count_users(sso) == before


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("username", "", Code.username_invalid),
        ("username", 17, Code.username_invalid),
        ("username", "u" * 129, Code.username_too_long),
        ("username", "two words", Code.username_has_whitespace),
        ("username", "admin", Code.username_invalid),
        ("username", "The.Root", Code.username_invalid),
        ("username", "sso-42", Code.username_invalid),
        ("email", "not-an-address", Code.email_invalid),
        ("email", "", Code.email_invalid),
        ("email", "a" * 250 + "@example.com", Code.email_too_long),
        ("email", "two words@example.com", Code.email_has_whitespace),
        ("email", "admin@example.com", Code.email_invalid),
        ("email", "=?utf-8?q?spy=40evil.example=2C_eve9?=@example.com", Code.email_invalid),  # issue 31 #3
        ("password", "short", Code.password_too_short),
        ("password", "x" * 257, Code.password_too_long),
        ("password", "MyPassword-77", Code.password_rejected_word),
        ("display_name", "x" * 257, Code.invalid_input),
    ],
)
def test_each_invalid_input_has_zatos_code_and_nothing_is_written(sso, field, value, code):
    before = count_users(sso)
    with refused(Kind.invalid, code) as info:
        sign_up(sso, **{field: value})
    assert field in info.value.errors
    assert count_users(sso) == before


def test_a_reject_list_word_must_stand_alone_to_count(sso):
    for username in ("grosso", "ecosystem", "administrator"):
        assert sign_up(sso, username=f"{username}.{uuid.uuid4().hex[:4]}").user_id
    assert sign_up(sso, email=f"{new_name()}@sso.example.com").user_id  # only the local part is checked


def test_every_invalid_field_is_reported_at_once(sso):
    with refused(Kind.invalid, Code.username_has_whitespace, Code.email_invalid, Code.password_too_short) as info:
        sign_up(sso, username="a b", email="nope", password="short")
    assert set(info.value.errors) == {"username", "email", "password"}


def test_a_taken_username_or_email_is_refused_case_insensitively(sso):
    email = f"{new_name()}@example.com"
    first = sign_up(sso, email=email)
    name = row_of(sso, first.user_id)["username"]
    with refused(Kind.conflict, Code.username_exists, Code.email_exists):
        sign_up(sso, username=name.upper(), email=email.upper())
    with refused(Kind.conflict, Code.email_exists):
        sign_up(sso, email=email)


def test_check_only_reports_a_taken_name_with_every_other_mistake_and_writes_nothing(sso, mailbox):
    email = f"{new_name()}@example.com"
    name = row_of(sso, sign_up(sso, email=email).user_id)["username"]
    before, audit_before = count_users(sso), len(audit_of(sso))
    body = {"username": name.upper(), "email": email, "password": "short", "app_list": ["CRM"]}
    with refused(Kind.invalid, Code.password_too_short, Code.username_exists, Code.email_exists) as info:
        sso.user.signup(CID, body, APP, ADDR, send_link=True, check_only=True)
    assert set(info.value.errors) == {"username", "email", "password"}
    fresh = f"{new_name()}@example.com"
    good = {"username": new_name(), "email": fresh, "password": PASSWORD, "app_list": ["CRM"]}
    assert sso.user.signup(CID, good, APP, ADDR, send_link=True, check_only=True) is None
    assert count_users(sso) == before and len(audit_of(sso)) == audit_before and mailbox.to(fresh) == []
    # Without it (the JSON API) the answer is as before: the values' mistakes, then a taken name on the next try.
    with refused(Kind.invalid, Code.password_too_short):
        sso.user.signup(CID, body, APP, ADDR)


def test_missing_required_inputs_are_a_malformed_request(sso):
    with refused(Kind.malformed, Code.invalid_input) as info:
        sso.user.signup(CID, {"username": new_name()}, APP, ADDR)
    assert set(info.value.errors) == {"password", "app_list"}
    with refused(Kind.invalid, Code.invalid_input):
        sso.user.signup(
            CID, {"username": new_name(), "password": PASSWORD, "app_list": ["CRM"], "is_super_user": True}, APP, ADDR
        )


def test_the_api_path_sends_no_email_the_console_path_emails_the_link(sso, mailbox):
    quiet = f"{new_name()}@example.com"
    sign_up(sso, email=quiet)

    address = f"{new_name()}@example.com"
    result = sign_up(sso, email=address, send_link=True)
    message = mailbox.for_(address)
    assert outbox_to(sso, quiet) == []
    assert message["Subject"] == "Confirm your Example Accounts account"
    assert link_in(message) == f"{PUBLIC}/signup/confirm/{result.confirm_token}"
    assert f'href="{PUBLIC}/signup/confirm/{result.confirm_token}"' in html_of(message)
    text = text_of(message)
    assert "expires in 2 days" in text and "If it was not you" in text
    sso.user.confirm_signup(CID, token_in(message), APP, ADDR)
    assert row_of(sso, result.user_id)["sign_up_status"] == "final"


def test_the_console_path_needs_an_email(sso):
    with refused(Kind.invalid, Code.email_missing):
        sign_up(sso, send_link=True)


@pytest.mark.no_delivery
def test_smtp_down_still_creates_the_account_with_its_waiting_confirmation(other_app, sso, mailbox):
    """Issue 27: before the outbox this was a 503 and no account; now the account and its confirmation message are
    written together, and the message goes once the SMTP server answers."""
    down = other_app(SSO_SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SSO_SMTP_TIMEOUT=3)
    email = f"{new_name()}@example.com"
    result = sign_up(down, email=email, send_link=True)
    assert row_of(down, result.user_id)["sign_up_status"] == "before_confirmation"
    assert run_until_empty(down.ctx, down.ctx.mailer) == 1
    [waiting] = outbox_rows(down)
    assert (waiting["status"], waiting["kind"], waiting["user_id"]) == ("queued", "signup_confirm", result.user_id)

    run_until_empty(sso.ctx, sso.ctx.mailer)
    sso.user.confirm_signup(CID, token_in(mailbox.for_(email)), APP, ADDR)
    assert row_of(sso, result.user_id)["sign_up_status"] == "final"
