"""A change of one's own email confirmed at the new address (SPEC §11, SSO_EMAIL_CHANGE_CONFIRM=1), on both
databases, with a real SMTP server on loopback: the link is read from the message it received."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Call, Code, Kind
from webapp.sso.email.worker import run_until_empty
from webapp.sso.kernel.tables import email_tokens

from ..mailbox import link_in, text_of, token_in
from ..server import free_port
from .conftest import PUBLIC
from .helpers import ADDR, APP, CID, PASSWORD, audit_of, frozen_clock, outbox_rows, outbox_to, refused, row_of

LINK_REFUSED = (Kind.not_found, Code.invalid_input)


pytestmark = pytest.mark.emails(SSO_EMAIL_CHANGE_CONFIRM=True)


def address() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.com"


def save(sso, ust, data, **kw):
    return sso.serve(Call(cid=CID, ust=ust, current_app=APP, remote_addr=ADDR)).save_own_account(data, **kw)


def confirm(sso, ust, token, channel="python"):
    """Open an email-change link in the session `ust` (only its owner's confirms)."""
    call = Call(cid=CID, ust=ust, current_app=APP, remote_addr=ADDR, channel=channel)
    return sso.serve(call).confirm_email_change(token)


def tokens_of(sso, user_id):
    with reading(sso.ctx.engine) as conn:
        return [
            dict(row) for row in conn.execute(select(email_tokens).where(email_tokens.c.user_id == user_id)).mappings()
        ]


def test_a_new_email_waits_for_its_link_while_the_other_fields_are_saved_at_once(sso, alice, mailbox):
    user, ust = alice
    old = address()
    save(sso, ust, {"email": old})  # no address yet: the first one is confirmed too
    confirm(sso, ust, token_in(mailbox.for_(old)))
    new = address()

    saved = save(sso, ust, {"email": new, "display_name": "Alice A."})
    assert saved.pending_email == new and saved.user["email"] == old
    row = row_of(sso, user["user_id"])
    assert (row["email"], row["display_name"]) == (old, "Alice A.")

    message = mailbox.for_(new)
    assert message["Subject"] == "Confirm your new Example Accounts email address"
    assert link_in(message).startswith(f"{PUBLIC}/account/email/confirm/")
    body = text_of(message)
    assert "alice" in body and "expires in 2 days" in body and "If it was not you" in body
    token = token_in(message)
    assert token not in str(tokens_of(sso, user["user_id"])), "only the token's hash is stored"
    assert sso.serve(Call(cid="test")).check_email_change_link(token) == ("alice", new)
    assert row_of(sso, user["user_id"])["email"] == old, "opening the link changes nothing"

    changed = confirm(sso, ust, token, channel="web")
    assert changed.email == new
    row = row_of(sso, user["user_id"])
    assert (row["email"], row["email_search"]) == (new, new)
    assert row["version"] == 4  # created, first address, display name, new address

    records = audit_of(sso, user["user_id"])
    assert [r["action"] for r in records][-3:] == ["update", "email_change_requested", "update"]
    assert records[-3]["changes"] == {"display_name": {"old": None, "new": "Alice A."}}
    assert records[-2]["changes"] == {"pending_email": {"old": None, "new": new}}
    assert records[-1]["changes"] == {"email": {"old": old, "new": new}}
    assert (records[-1]["actor_id"], records[-1]["channel"]) == (user["user_id"], "web")
    assert token not in str(audit_of(sso))

    with refused(*LINK_REFUSED):  # single use
        confirm(sso, ust, token)
    with refused(*LINK_REFUSED):
        sso.serve(Call(cid="test")).check_email_change_link(token)


def test_the_link_expires(sso, alice, mailbox):
    user, ust = alice
    clock = frozen_clock(sso)
    new = address()
    save(sso, ust, {"email": new})
    token = token_in(mailbox.for_(new))
    clock(hours=47, minutes=59)
    assert sso.serve(Call(cid="test")).check_email_change_link(token) == ("alice", new)
    clock(minutes=1)
    with refused(*LINK_REFUSED):
        confirm(sso, ust, token)
    assert row_of(sso, user["user_id"])["email"] is None


def test_a_second_change_replaces_the_first_and_a_direct_clear_ends_it(sso, alice, mailbox):
    user, ust = alice
    first, second = address(), address()
    save(sso, ust, {"email": first})
    save(sso, ust, {"email": second})
    first_token, second_token = token_in(mailbox.for_(first)), token_in(mailbox.for_(second))
    with refused(*LINK_REFUSED):
        confirm(sso, ust, first_token)
    confirm(sso, ust, second_token)
    assert row_of(sso, user["user_id"])["email"] == second

    third = address()
    save(sso, ust, {"email": third})
    cleared = save(sso, ust, {"email": None})  # nothing to prove: a clear is written at once
    assert cleared.pending_email is None and row_of(sso, user["user_id"])["email"] is None
    with refused(*LINK_REFUSED):
        confirm(sso, ust, token_in(mailbox.for_(third)))
    assert row_of(sso, user["user_id"])["email"] is None


def test_the_value_rules_and_the_version_check_come_first_and_nothing_is_sent(sso, alice, mailbox, unchanged):
    user, ust = alice
    check = unchanged(user["user_id"])
    new = address()
    with refused(Kind.invalid, Code.invalid_input) as info:
        save(sso, ust, {"email": new, "first_name": "x" * 1000})
    assert set(info.value.errors) == {"first_name"}
    with refused(Kind.invalid, Code.invalid_input):
        save(sso, ust, {"email": "not an address"})
    with refused(Kind.precondition, Code.version_conflict):
        save(sso, ust, {"email": new}, expected_version=99)
    with refused(Kind.forbidden, Code.invalid_input):
        save(sso, ust, {"email": new, "is_locked": True})
    check()
    assert outbox_to(sso, new) == [] and tokens_of(sso, user["user_id"]) == []


def test_a_locked_account_cannot_use_its_link(sso, alice, mailbox, as_admin):
    user, ust = alice
    new = address()
    save(sso, ust, {"email": new})
    token = token_in(mailbox.for_(new))
    as_admin(user["user_id"], {"is_locked": True})
    with refused(*LINK_REFUSED):
        confirm(sso, ust, token)
    as_admin(user["user_id"], {"is_locked": False})
    ust = sso.user.login(CID, "alice", PASSWORD, APP, ADDR).ust  # locking ended her sessions
    confirm(sso, ust, token)
    assert row_of(sso, user["user_id"])["email"] == new


def test_only_the_owners_session_confirms_the_link(sso, alice, make_user, login, mailbox):
    """Issue 31 #4: another signed-in user confirmed Alice's change, and the audit named Alice."""
    user, ust = alice
    new = address()
    save(sso, ust, {"email": new})
    token = token_in(mailbox.for_(new))
    make_user("mal")
    mal_ust = login("mal")
    before = len(audit_of(sso))
    with refused(Kind.forbidden, Code.auth_invalid) as info:
        confirm(sso, mal_ust, token)
    assert list(info.value.errors) == ["token"]
    with refused(Kind.unauthenticated, Code.session_invalid):  # and nobody without a session
        confirm(sso, "not-a-session", token)
    assert row_of(sso, user["user_id"])["email"] is None and len(audit_of(sso)) == before
    assert sso.serve(Call(cid="test")).check_email_change_link(token) == ("alice", new)  # still usable by her
    confirm(sso, ust, token)
    (record,) = audit_of(sso, user["user_id"], action="update")[-1:]
    assert record["actor_id"] == user["user_id"] and record["changes"] == {"email": {"old": None, "new": new}}


@pytest.mark.no_delivery
def test_smtp_down_stores_the_request_with_its_message_which_goes_once_smtp_is_back(other_app, sso, mailbox):
    """Issue 27: before the outbox this was a 503 and nothing stored; now the save succeeds, the pending address,
    its link and the message are written together, and the message waits for the SMTP server."""
    down = other_app(SSO_SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SSO_SMTP_TIMEOUT=3)
    user = down.operator.create_local("bob", "Correct-Horse-9", super_user=False)
    ust = down.user.login(CID, "bob", "Correct-Horse-9", APP, ADDR).ust
    new = address()
    saved = save(down, ust, {"email": new, "display_name": "Bob"})
    assert saved.pending_email == new and row_of(down, user["user_id"])["display_name"] == "Bob"
    assert len(tokens_of(down, user["user_id"])) == 1
    assert run_until_empty(down.ctx, down.ctx.mailer) == 1
    [waiting] = outbox_rows(down)
    assert (waiting["status"], waiting["recipient"], waiting["user_id"]) == ("queued", new, user["user_id"])

    run_until_empty(sso.ctx, sso.ctx.mailer)
    confirm(sso, ust, token_in(mailbox.for_(new)))  # in the owner's session
    assert row_of(sso, user["user_id"])["email"] == new


def test_the_api_the_python_update_and_super_users_write_at_once(sso, alice, admin, mailbox):
    user, ust = alice
    mine, theirs = address(), address()
    sso.user.update_current_user(CID, {"email": mine}, ust, APP, ADDR)
    assert row_of(sso, user["user_id"])["email"] == mine
    sso.user.update_user_by_id(CID, user["user_id"], {"email": theirs}, admin[1], APP, ADDR)
    assert row_of(sso, user["user_id"])["email"] == theirs
    assert outbox_to(sso, mine, "email_change") == [] and outbox_to(sso, theirs, "email_change") == []


def test_with_the_setting_off_my_account_saves_the_email_at_once(other_app, mailbox):
    sso = other_app(SSO_EMAIL_CHANGE_CONFIRM=False)
    user = sso.operator.create_local("carol", "Correct-Horse-9", super_user=False)
    ust = sso.user.login(CID, "carol", "Correct-Horse-9", APP, ADDR).ust
    new = address()
    saved = save(sso, ust, {"email": new, "display_name": "Carol"})
    assert saved.pending_email is None and saved.user["email"] == new
    row = row_of(sso, user["user_id"])
    assert (row["email"], row["display_name"]) == (new, "Carol")
    assert [r["changes"] for r in audit_of(sso, user["user_id"], "update")] == [
        {"email": {"old": None, "new": new}, "display_name": {"old": None, "new": "Carol"}}
    ]
    assert outbox_to(sso, new) == [] and tokens_of(sso, user["user_id"]) == []


def test_confirming_a_new_address_clears_verify_email(sso, alice, admin, mailbox):
    """SPEC §19: the link at the new address proves that mailbox too, so a waiting verify_email is done, in the
    confirmation's own audit record (the action was set after the link went out)."""
    user, ust = alice
    _, admin_ust = admin
    new = address()
    save(sso, ust, {"email": new})
    token = token_in(mailbox.for_(new))
    sso.user.update_user_by_id(CID, user["user_id"], {"required_actions": ["verify_email"]}, admin_ust, APP, ADDR)
    with refused(Kind.forbidden, Code.actions_required):
        sso.user.get_user_by_id(CID, None, ust, APP, ADDR)
    confirm(sso, ust, token)
    assert sso.user.get_user_by_id(CID, None, ust, APP, ADDR)["required_actions"] == []
    record = audit_of(sso, user["user_id"], "update")[-1]
    assert record["changes"]["email"]["new"] == new
    assert record["changes"]["required_actions"] == {"old": ["verify_email"], "new": []}
