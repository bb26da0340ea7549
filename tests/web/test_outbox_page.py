"""The console's Outbox page (issue 27) without JavaScript: super-users see the queue and its failures and send a
failed message again; nobody else sees it; no body is ever shown."""

from __future__ import annotations

import pytest

from webapp.db import writing
from webapp.sso.email.mail import Mailer, Message
from webapp.sso.email.outbox import enqueue
from webapp.sso.email.worker import run_until_empty

from ..core.helpers import audit_of, outbox_rows
from .html_forms import element, form, text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def queue(sso, to: str, body: str, user_id=None) -> None:
    with writing(sso.ctx.engine) as conn:
        enqueue(sso.ctx, conn, Message(to, "Your link", body, f"<p>{body}</p>", "password_reset"), user_id=user_id)


def test_a_super_user_sees_the_queue_and_sends_a_failed_message_again(admin_client, alice_client, sso, mailbox):
    client, admin = admin_client
    _, alice = alice_client
    mailbox.refuse["gone@example.com"] = "550 5.1.1 no such mailbox here"
    queue(sso, "gone@example.com", "secret-link-1", user_id=alice["user_id"])
    run_until_empty(sso.ctx, Mailer({"SSO_SMTP_URL": mailbox.url}))
    queue(sso, "waiting@example.com", "secret-link-2")

    html = text(client.get("/outbox"))
    assert "secret-link" not in html
    assert element(html, "outbox-queued").endswith(">1") and element(html, "outbox-failed").endswith(">1")
    [failed] = [row for row in outbox_rows(sso) if row["status"] == "failed"]
    row_html = html[html.index(f'id="outbox-failed-table-{failed["id"]}"') :]
    assert "gone@example.com" in row_html and "550 5.1.1 no such mailbox here" in row_html
    assert 'id="nav-outbox"' in html and 'aria-current="page"' in element(html, "nav-outbox")

    del mailbox.refuse["gone@example.com"]
    answer = form(client, "/outbox", f"retry-form-{failed['id']}").submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/outbox"
    page = text(client.get("/outbox"))
    assert f"Message {failed['id']} is queued again." in page and 'id="no-failed"' in page
    [record] = audit_of(sso, alice["user_id"], "outbox_retry")
    assert (record["actor_id"], record["channel"]) == (admin["user_id"], "web")
    run_until_empty(sso.ctx, Mailer({"SSO_SMTP_URL": mailbox.url}))
    assert mailbox.for_("gone@example.com")["Subject"] == "Your link"


def test_the_outbox_is_for_super_users_only(alice_client, admin_client, sso):
    client, _ = alice_client
    assert client.get("/outbox").status_code == 403
    admin, _ = admin_client
    page = text(admin.get("/outbox"))
    assert 'id="no-failed"' in page and 'id="no-queued"' in page
    mine = dict(form(client, "/account", "account-form").data())["csrf_token"]
    assert client.post("/outbox/1/retry", data={"csrf_token": mine}).status_code == 403
    theirs = dict(form(admin, "/account", "account-form").data())["csrf_token"]
    for number in ("999", "0", str(2**31), "9" * 30):  # none, and none a database column could hold
        assert admin.post(f"/outbox/{number}/retry", data={"csrf_token": theirs}).status_code == 404
