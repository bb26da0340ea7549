"""Account policies (issue 27, SPEC §19) on both databases: settings checked and audited; the dry run names the
very users the run acts on; a run twice acts once; two runs at once (two services, each its own connections)
act once; warnings are emailed once, in the recipient's language, before the action; due scheduled deletions
run too; every record has channel `policy`."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Call, Code, Kind
from webapp.sso.email.mail import when
from webapp.sso.kernel.tables import policy_claims
from webapp.sso.policies import run as policy_run

from ..mailbox import link_in, text_of, token_in
from .conftest import PUBLIC
from .helpers import ADDR, APP, CID, PASSWORD, audit_of, frozen_clock, outbox_to, refused, row_of, settle

pytestmark = pytest.mark.emails(SSO_SIGNUP_APPS=["CRM"])
START = datetime(2030, 1, 1, 9, 0, 0)


def serve(sso, ust):
    return sso.serve(Call(cid=CID, ust=ust, current_app=APP, remote_addr=ADDR, channel="web"))


@pytest.fixture(autouse=True)
def clock(sso):
    """The service's clock, frozen at START before anyone signs in (then moved by the tests)."""
    return frozen_clock(sso, START)


@pytest.fixture
def people(sso, clock, make_user, as_admin):
    """Users made at START: `people(n)` approved ones with email addresses; `people.signups(n)` unconfirmed."""

    def make(count: int, **attributes):
        made = []
        for _ in range(count):
            name = f"p.{uuid.uuid4().hex[:8]}"
            user = make_user(name)
            as_admin(user["user_id"], {"email": f"{name}@example.com", **attributes})
            made.append({**user, "email": f"{name}@example.com"})
        return made

    def signups(count: int):
        made = []
        for _ in range(count):
            name = f"s.{uuid.uuid4().hex[:8]}"
            result = sso.serve(Call(cid=CID, current_app="CRM", remote_addr=ADDR)).signup(
                {"username": name, "password": PASSWORD, "email": f"{name}@example.com", "app_list": ["CRM"]}
            )
            made.append({"user_id": result.user_id, "username": name, "email": f"{name}@example.com"})
        return made

    make.signups = signups  # type: ignore[attr-defined]
    return make


def claims(sso) -> list[tuple[str, str]]:
    with reading(sso.ctx.engine) as conn:
        return sorted((r.user_id, r.policy) for r in conn.execute(select(policy_claims)))


def words(text: str) -> list[str]:
    """A header's words (a long subject is folded, its spaces changed)."""
    return text.replace("\u202f", " ").split()


def acted(report) -> list[str]:
    return sorted(username for username, _ in report.done)


def test_a_policy_of_n_days_at_most_0_is_refused_naming_the_field_and_nothing_is_written(sso, admin):
    _, ust = admin
    service = serve(sso, ust)
    for days in (0, -5):
        with refused(Kind.invalid, Code.invalid_input) as info:
            service.set_policy("lock_inactive", enabled=True, days=days)
        assert info.value.errors == {"days": "must be at least 1 day"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        service.set_policy("lock_inactive", enabled="yes", days="ninety")
    assert info.value.errors == {"enabled": "must be true or false", "days": "must be a whole number of days"}
    with refused(Kind.invalid, Code.invalid_input) as info:
        service.set_policy("lock_everyone", enabled=True, days=3)
    assert "lock_inactive, delete_unconfirmed, warn_before" in info.value.errors["name"]
    with refused(Kind.invalid, Code.invalid_input):
        service.policy_dry_run({"lock_inactive": (True, 0)})
    assert not service.policies()["lock_inactive"].enabled
    assert audit_of(sso, action="policy_change") == []


def test_settings_are_stored_and_audited_old_to_new_by_policies_manage_only(sso, admin, make_user, login):
    me, ust = admin
    service = serve(sso, ust)
    stored = service.set_policy("lock_inactive", enabled=True, days=60)
    assert (stored.enabled, stored.days, stored.modified_by) == (True, 60, me["user_id"])
    service.set_policy("lock_inactive", enabled=True, days=60)  # no change: no record
    service.set_policy("lock_inactive", enabled=False, days=60)
    records = audit_of(sso, "policy:lock_inactive", "policy_change")
    assert [r["changes"] for r in records] == [
        {"enabled": {"old": False, "new": True}, "days": {"old": 90, "new": 60}},
        {"enabled": {"old": True, "new": False}},
    ]
    assert {r["actor_id"] for r in records} == {me["user_id"]}
    plain = make_user(f"plain.{uuid.uuid4().hex[:6]}")
    with refused(Kind.forbidden, Code.auth_invalid):
        serve(sso, login(plain["username"])).set_policy("lock_inactive", enabled=True, days=1)
    with refused(Kind.forbidden, Code.auth_invalid):
        serve(sso, login(plain["username"])).run_policies()


def test_the_dry_run_names_the_users_the_run_acts_on_and_a_second_run_acts_on_nobody(
    sso, admin, people, clock, login, mailbox
):
    _, ust = admin
    idle, active = people(3), people(2)
    waiting = people.signups(2)
    service = serve(sso, ust)
    service.set_policy("lock_inactive", enabled=True, days=30)
    service.set_policy("delete_unconfirmed", enabled=True, days=30)
    clock(days=20)
    for user in active:
        login(user["username"])  # signs in on day 20: due on day 50
    clock(days=15)  # day 35
    ust = login(admin[0]["username"])  # the administrator's own session (super-users are never locked anyway)
    service = serve(sso, ust)
    preview = service.policy_dry_run()
    assert preview.act_count == {"lock_inactive": 3, "delete_unconfirmed": 2}
    assert preview.warn_count == {"lock_inactive": 0, "delete_unconfirmed": 0}
    named = {e.username for name in preview.act for e in preview.act[name]}
    report = service.run_policies()
    assert set(acted(report)) == named == {u["username"] for u in idle + waiting}
    assert all(row_of(sso, u["user_id"])["is_locked"] for u in idle)
    assert not any(row_of(sso, u["user_id"])["is_locked"] for u in active)
    for user in idle:
        [record] = [r for r in audit_of(sso, user["user_id"], "update") if "is_locked" in r["changes"]]
        assert (record["channel"], record["actor_id"]) == ("policy", None)
    for user in waiting:
        [record] = audit_of(sso, user["user_id"], "delete")
        assert record["channel"] == "policy"
    # run twice: nothing more, even for a user an administrator unlocked meanwhile (same due time)
    service.unlock_user(idle[0]["user_id"])
    again = service.run_policies()
    assert (again.done, again.refused) == ([], [])
    assert service.policy_dry_run().act_count == {"lock_inactive": 0, "delete_unconfirmed": 0}
    assert not row_of(sso, idle[0]["user_id"])["is_locked"]
    assert len(claims(sso)) == 5


def at_once(*facades) -> list:
    """`run_policies` on each facade (each its own engine) in threads released together; their reports."""
    barrier = threading.Barrier(len(facades))
    reports: list = []
    failures: list = []

    def run(facade) -> None:
        try:
            barrier.wait()
            reports.append(policy_run.run_policies(facade.ctx))
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(facade,)) for facade in facades]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    return reports


def test_two_runs_at_once_warn_and_act_on_each_user_once(sso, admin, people, clock, other_app):
    _, ust = admin
    idle = people(6)
    waiting = people.signups(3)
    service = serve(sso, ust)
    service.set_policy("lock_inactive", enabled=True, days=10)
    service.set_policy("delete_unconfirmed", enabled=True, days=10)
    service.set_policy("warn_before", enabled=True, days=3)
    second = other_app()  # its own engine and connections
    move_second = frozen_clock(second, clock(days=8))
    everyone = sorted(u["username"] for u in idle + waiting)
    warned = at_once(sso, second)
    assert sorted(name for report in warned for name in acted(report)) == everyone  # each warned once
    assert len(audit_of(sso, action="policy_warning")) == len(everyone)
    for user in idle + waiting:
        kind = "policy/lock_warning" if user in idle else "policy/delete_warning"
        assert len(outbox_to(sso, user["email"], kind)) == 1
    clock(days=3)
    move_second(days=3)
    reports = at_once(sso, second)
    assert sorted(name for report in reports for name in acted(report)) == everyone  # each acted on once
    for user in idle:
        locks = [r for r in audit_of(sso, user["user_id"], "update") if "is_locked" in r["changes"]]
        assert len(locks) == 1
    for user in waiting:
        assert len(audit_of(sso, user["user_id"], "delete")) == 1
    assert len(claims(sso)) == 2 * len(everyone)


def test_warnings_are_emailed_once_before_the_action_in_the_recipients_language(
    sso, admin, people, clock, mailbox, login
):
    _, ust = admin
    [english] = people(1)
    [german] = people(1, locale="de")
    [signup] = people.signups(1)
    service = serve(sso, ust)
    service.set_policy("lock_inactive", enabled=True, days=30)
    service.set_policy("delete_unconfirmed", enabled=True, days=30)
    service.set_policy("warn_before", enabled=True, days=7)
    clock(days=24)  # 6 days before the due day: in the warning window
    preview = policy_run.dry_run(sso.ctx, None)
    assert preview.warn_count == {"lock_inactive": 2, "delete_unconfirmed": 1}
    assert preview.act_count == {"lock_inactive": 0, "delete_unconfirmed": 0}
    first = policy_run.run_policies(sso.ctx)
    assert sorted(first.done) == sorted(
        [
            (english["username"], "warned (lock_inactive)"),
            (german["username"], "warned (lock_inactive)"),
            (signup["username"], "warned (delete_unconfirmed)"),
        ]
    )
    assert policy_run.run_policies(sso.ctx).done == []  # once per user per due action
    settle(sso)
    [message] = mailbox.to(english["email"])
    due = when(datetime(2030, 1, 31, 9, 0, 0), "en")
    assert words(message["Subject"]) == words(f"Your Example Accounts account will be locked on {due}")
    assert link_in(message) == f"{PUBLIC}/login"
    [message] = mailbox.to(german["email"])
    assert message["Subject"].startswith("Ihr Example Accounts-Konto wird am ")
    assert "gesperrt" in message["Subject"]
    [message] = mailbox.to(signup["email"])
    assert "will be deleted on" in message["Subject"] and "never confirmed" in text_of(message)
    [warning] = audit_of(sso, english["user_id"], "policy_warning")
    assert (warning["channel"], warning["actor_id"]) == ("policy", None)
    assert warning["changes"] == {
        "policy_warning": {"old": None, "new": "lock_inactive"},
        "email_sent": {"old": None, "new": english["email"]},
    }
    # the warning waits out its 7 days: not acted on at the due day, acted on a day later
    clock(days=6)
    assert policy_run.run_policies(sso.ctx).done == []
    clock(days=1)
    last = policy_run.run_policies(sso.ctx)
    assert sorted(last.done) == sorted(
        [(english["username"], "locked"), (german["username"], "locked"), (signup["username"], "deleted")]
    )
    assert row_of(sso, english["user_id"])["is_locked"]
    assert len(outbox_to(sso, english["email"], "policy/lock_warning")) == 1  # still only the one warning
    assert len(outbox_to(sso, english["email"], "notify/lock_changed")) == 1  # the lock is told, as any lock


def test_the_delete_warning_carries_a_confirmation_link_that_keeps_the_account(sso, admin, people, clock, mailbox):
    _, ust = admin
    [signup] = people.signups(1)
    service = serve(sso, ust)
    service.set_policy("delete_unconfirmed", enabled=True, days=10)
    service.set_policy("warn_before", enabled=True, days=3)
    clock(days=8)
    policy_run.run_policies(sso.ctx)
    message = mailbox.for_(signup["email"])
    assert link_in(message).startswith(f"{PUBLIC}/signup/confirm/")
    sso.serve(Call(cid=CID, current_app=APP, remote_addr=ADDR)).confirm_signup(token_in(message))
    clock(days=10)
    assert policy_run.run_policies(sso.ctx).done == []
    assert row_of(sso, signup["user_id"])["sign_up_status"] == "final"


def test_a_run_also_carries_out_the_deletions_people_scheduled(sso, people, clock, login):
    [user] = people(1)
    sso.user.schedule_deletion(CID, PASSWORD, login(user["username"]), APP, ADDR)
    clock(days=15)
    report = policy_run.run_policies(sso.ctx)
    assert report.scheduled_deletions == [(user["username"], "deleted")]
    assert report.done == []


def test_the_command_line_runs_them_with_a_dry_run_first(app, sso, admin, people, clock):
    _, ust = admin
    [idle] = people(1)
    serve(sso, ust).set_policy("lock_inactive", enabled=True, days=5)
    clock(days=6)
    runner = app.test_cli_runner()
    preview = runner.invoke(args=["sso", "run-policies", "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "lock_inactive: would act on 1, would warn 0" in preview.output and idle["username"] in preview.output
    assert not row_of(sso, idle["user_id"])["is_locked"]
    done = runner.invoke(args=["sso", "run-policies"])
    assert done.exit_code == 0, done.output
    assert f"{idle['username']}\tlocked" in done.output
    assert row_of(sso, idle["user_id"])["is_locked"]
    again = runner.invoke(args=["sso", "run-policies"])
    assert again.exit_code == 0 and idle["username"] not in again.output
