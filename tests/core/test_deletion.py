"""Delete my account (SPEC §20) on both databases, the email read from a real SMTP server: schedule →
locked, sessions ended → the emailed link with the password keeps the account → schedule again → the due run
(a clock we control) deletes → the audit keeps the record, the person as the actor. And the refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from webapp.sso import Kind

from ..conftest import PASSWORD
from ..mailbox import link_in, text_of, token_in
from .conftest import PUBLIC
from .helpers import ADDR, APP, CID, audit_of, count_users, frozen_clock, refused, row_of, session_rows

pytestmark = pytest.mark.emails()


def person(make_user, as_admin, login) -> tuple[dict, str, str]:
    name = f"person.{uuid.uuid4().hex[:8]}"
    user = make_user(name)
    as_admin(user["user_id"], {"email": f"{name}@example.com"})
    return user, f"{name}@example.com", login(name)


def test_schedule_keep_schedule_again_and_the_due_run_deletes(sso, make_user, as_admin, login, mailbox):
    clock = frozen_clock(sso)
    user, email, ust = person(make_user, as_admin, login)
    user_id = user["user_id"]
    login(user["username"])  # a second device

    due = sso.user.schedule_deletion(CID, PASSWORD, ust, APP, ADDR)

    assert due == clock.now() + timedelta(days=14)
    row = row_of(sso, user_id)
    assert (row["is_locked"], row["deletion_time"], row["locked_by"]) == (True, due, user_id)
    assert session_rows(sso, user_id) == []
    with refused(Kind.forbidden, "E005002"):  # the lock answers the old session
        sso.user.get_current_user(CID, ust, APP, ADDR)
    message = mailbox.for_(email)
    assert "will be deleted" in message["Subject"] and link_in(message).startswith(PUBLIC + "/account/keep/")
    assert str(due.year) in text_of(message) and str(due.day) in text_of(message)  # the date, in the person's locale
    scheduled = audit_of(sso, user_id, "deletion_scheduled")[-1]
    assert scheduled["actor_id"] == user_id and scheduled["changes"]["is_locked"] == {"old": False, "new": True}

    # The link: a forged token and a wrong password are refused, nothing changes; then it keeps the account.
    token = token_in(message)
    with refused(Kind.not_found, "E008002"):
        sso.user.keep_account(CID, "x" * 43, PASSWORD, APP, ADDR)
    with refused(Kind.forbidden, "E005001"):
        sso.user.keep_account(CID, token, "not the password", APP, ADDR)
    assert row_of(sso, user_id)["is_locked"] is True
    assert sso.user.keep_account(CID, token, PASSWORD, APP, ADDR) == user["username"]
    row = row_of(sso, user_id)
    assert (row["is_locked"], row["deletion_time"]) == (False, None)
    with refused(Kind.not_found, "E008002"):  # single use
        sso.user.keep_account(CID, token, PASSWORD, APP, ADDR)

    # Schedule again; the run before it is due deletes nothing, the run after deletes it as §8 does.
    due = sso.user.schedule_deletion(CID, PASSWORD, login(user["username"]), APP, ADDR)
    clock(days=13)
    assert sso.operator.delete_due() == []
    assert row_of(sso, user_id)["deletion_time"] == due
    clock(days=1, seconds=1)
    users_before = count_users(sso)
    assert sso.operator.delete_due() == [(user["username"], "deleted")]
    assert count_users(sso) == users_before - 1
    deleted = audit_of(sso, user_id, "delete")[-1]
    assert deleted["actor_id"] == user_id  # the person, not whoever runs cron
    assert deleted["changes"]["username"] == {"old": user["username"], "new": None}
    assert deleted["changes"]["deletion_time"]["new"] is None
    # The link of the first schedule and one of an account gone: the same refusal.
    with refused(Kind.not_found, "E008002"):
        sso.user.keep_account(CID, token_in(mailbox.for_(email, count=2)), PASSWORD, APP, ADDR)


def test_the_last_usable_super_user_cannot_schedule_it_but_one_of_two_can(sso, admin, make_user, login):
    _, admin_ust = admin
    with refused(Kind.forbidden, "E008001"):
        sso.user.schedule_deletion(CID, PASSWORD, admin_ust, APP, ADDR)
    assert row_of(sso, admin[0]["user_id"])["is_locked"] is False
    make_user("second", super_user=True)
    sso.user.schedule_deletion(CID, PASSWORD, admin_ust, APP, ADDR)
    assert row_of(sso, admin[0]["user_id"])["deletion_time"] is not None


def test_refusals_wrong_password_turned_off_and_an_administrators_cancel(sso, make_user, as_admin, login, admin):
    _, admin_ust = admin
    user, _email, ust = person(make_user, as_admin, login)
    with refused(Kind.forbidden, "E005001") as info:
        sso.user.schedule_deletion(CID, "wrong", ust, APP, ADDR)
    assert list(info.value.errors) == ["password"]
    assert row_of(sso, user["user_id"])["deletion_time"] is None

    sso.ctx.settings = {**sso.ctx.settings, "SSO_SELF_DELETE": False}
    with refused(Kind.forbidden, "E008001"):
        sso.user.schedule_deletion(CID, PASSWORD, ust, APP, ADDR)
    sso.ctx.settings = {**sso.ctx.settings, "SSO_SELF_DELETE": True}

    sso.user.schedule_deletion(CID, PASSWORD, ust, APP, ADDR)
    shown = sso.user.get_user_by_id(CID, user["user_id"], admin_ust, APP, ADDR)
    assert shown["deletion_time"] is not None and shown["is_locked"] is True
    make_user("bob")
    with refused(Kind.forbidden, "E005001"):  # a regular user cannot cancel anyone's
        sso.user.cancel_deletion(CID, user["user_id"], login("bob"), APP, ADDR)
    sso.user.cancel_deletion(CID, user["user_id"], admin_ust, APP, ADDR)
    row = row_of(sso, user["user_id"])
    assert (row["deletion_time"], row["is_locked"]) == (None, False)
    assert audit_of(sso, user["user_id"], "deletion_cancelled")[-1]["actor_id"] == admin[0]["user_id"]
    with refused(Kind.invalid, "E008002"):  # nothing scheduled any more
        sso.user.cancel_deletion(CID, user["user_id"], admin_ust, APP, ADDR)


def test_the_delete_due_command_deletes_what_is_due_and_says_so(app, sso, make_user, login):
    clock = frozen_clock(sso)
    user = make_user("leaving")
    sso.user.schedule_deletion(CID, PASSWORD, login("leaving"), APP, ADDR)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["sso", "delete-due"])
    assert early.exit_code == 0 and "Deleted 0 account(s)" in early.output
    clock(days=15)
    done = runner.invoke(args=["sso", "delete-due"])
    assert done.exit_code == 0, done.output
    assert "leaving\tdeleted" in done.output
    assert audit_of(sso, user["user_id"], "delete")[-1]["actor_id"] == user["user_id"]
