"""The Policies page without JavaScript (issue 27): N ≤ 0 refused beside the field; switching a policy on shows its
dry run (the count and the users) and asks again; "Run the policies now" acts on exactly those users; only a
reader holding policies.manage sees it."""

from __future__ import annotations

import uuid

import pytest

from ..core.helpers import audit_of, frozen_clock, row_of
from .conftest import web_login
from .html_forms import element, form, forms, text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def clock(sso):
    return frozen_clock(sso)


def signed_in(app, username: str):
    client = app.test_client()
    assert web_login(client, username).status_code == 303
    return client


def test_days_at_most_0_or_not_a_number_are_refused_beside_the_field(app, sso, make_user):
    make_user("admin", super_user=True)
    client = signed_in(app, "admin")
    html = text(client.get("/policies"))
    assert 'id="nav-policies"' in html and 'aria-current="page"' in element(html, "nav-policies")
    cases = (
        ("0", "must be at least 1 day"),
        ("-3", "must be at least 1 day"),
        ("ten", "must be a whole number of days"),
    )
    for days, message in cases:
        page = form(client, "/policies", "policy-lock_inactive-form")
        page.fill("days", days)
        answer = page.submit(client)
        assert answer.status_code == 422
        assert message in element(text(answer), "policy-lock_inactive-days-error")
    assert audit_of(sso, action="policy_change") == []


def test_switching_on_shows_the_dry_run_and_the_run_acts_on_those_users(app, sso, make_user, clock):
    idle = [make_user(f"idle.{uuid.uuid4().hex[:6]}") for _ in range(2)]
    clock(days=3)
    recent = make_user(f"new.{uuid.uuid4().hex[:6]}")
    admin = make_user("admin", super_user=True)
    client = signed_in(app, "admin")
    page = form(client, "/policies", "policy-lock_inactive-form")
    page.check("enabled").fill("days", "2")
    confirm = page.submit(client)
    html = text(confirm)
    assert confirm.status_code == 200 and "2 users would be acted on now." in element(html, "dry-run-lock_inactive-act")
    listed = html[html.index('id="dry-run-lock_inactive-act-users"') : html.index('id="dry-run-lock_inactive-warn"')]
    assert all(user["username"] in listed for user in idle) and recent["username"] not in listed
    assert audit_of(sso, action="policy_change") == []  # nothing switched on yet
    saved = forms(html)["policy-confirm-form"].submit(client)
    assert saved.status_code == 303 and saved.headers["Location"] == "/policies"
    [record] = audit_of(sso, "policy:lock_inactive", "policy_change")
    assert (record["actor_id"], record["changes"]["enabled"]) == (admin["user_id"], {"old": False, "new": True})
    result = forms(text(client.get("/policies")))["policies-run-form"].submit(client)
    html = text(result)
    assert result.status_code == 200 and "2 done" in element(html, "policies-summary")
    assert all(row_of(sso, user["user_id"])["is_locked"] for user in idle)
    assert not row_of(sso, recent["user_id"])["is_locked"]
    again = text(forms(text(client.get("/policies")))["policies-run-form"].submit(client))
    assert "0 done" in element(again, "policies-summary")


def test_only_a_reader_holding_policies_manage_sees_the_page(app, make_user):
    make_user("plain")
    client = signed_in(app, "plain")
    assert client.get("/policies").status_code == 403
    assert 'id="nav-policies"' not in text(client.get("/account"))


def test_changing_the_days_of_a_policy_that_is_on_shows_the_dry_run_again(app, sso, make_user, clock):
    idle = make_user(f"idle.{uuid.uuid4().hex[:6]}")
    clock(days=5)
    make_user("admin", super_user=True)
    client = signed_in(app, "admin")
    page = form(client, "/policies", "policy-lock_inactive-form")
    page.check("enabled").fill("days", "30")
    forms(text(page.submit(client)))["policy-confirm-form"].submit(client)  # on at 30 days: nobody due
    page = form(client, "/policies", "policy-lock_inactive-form")
    page.fill("days", "3")
    html = text(page.submit(client))
    assert "Change the days: Lock accounts without a sign-in" in html
    assert "1 user would be acted on now." in element(html, "dry-run-lock_inactive-act")
    assert idle["username"] in html
    assert [r["changes"] for r in audit_of(sso, "policy:lock_inactive", "policy_change")] == [
        {"enabled": {"old": False, "new": True}, "days": {"old": 90, "new": 30}}
    ]  # not saved before the confirmation
    page = form(client, "/policies", "policy-lock_inactive-form")
    page.check("enabled", on=False)
    assert page.submit(client).status_code == 303  # switching off asks nothing
