"""My account with SSO_EMAIL_CHANGE_CONFIRM=1, without JavaScript (Flask test client, SQLite, a real SMTP server
on loopback): the new email waits for the link read from the captured message."""

from __future__ import annotations

import re
import uuid

import pytest

from webapp import create_app
from webapp.sso.email.mail import Mailer
from webapp.sso.email.worker import run_until_empty

from ..conftest import FAST_WORKER, PASSWORD, delivering
from ..conftest import app_config as config_for
from ..core.helpers import outbox_to
from ..mailbox import link_in
from ..server import free_port
from .conftest import web_login
from .html_forms import csrf_token, element, form, text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PUBLIC = "https://sso.example.test"


@pytest.fixture
def app(db_url, mailbox):
    application = create_app(
        config_for(
            db_url, SSO_SMTP_URL=mailbox.url, SSO_PUBLIC_URL=PUBLIC, SSO_EMAIL_CHANGE_CONFIRM=True, **FAST_WORKER
        )
    )
    with delivering(application.extensions["sso"].ctx):
        yield application
    application.extensions["sso_engine"].dispose()


def test_my_new_email_changes_when_i_open_the_link_and_confirm(alice_client, mailbox):
    client, _user = alice_client
    new = f"{uuid.uuid4().hex[:10]}@example.com"
    account = form(client, "/account", "account-form")
    answer = account.fill("email", new).fill("display_name", "Alice A.").submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"

    html = text(client.get("/account"))
    assert f"We sent a confirmation to {new}; your email changes when you open the link." in html
    assert "Saved: Display name." in html and "Saved: Email" not in html
    assert "not set" in element(html, "f-email-state") + html[html.index('id="f-email-state"') :][:200]
    assert 'value="Alice A."' in html

    link = link_in(mailbox.for_(new))
    assert link.startswith(PUBLIC)
    path = link[len(PUBLIC) :]
    opened = client.get(path)
    assert opened.status_code == 200 and new in text(opened) and "alice" in text(opened)
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert f'value="{new}"' not in text(client.get("/account")), "opening the link alone changes nothing"

    confirmed = form(client, path, "email-confirm-form").submit(client)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/account"
    html = text(client.get("/account"))
    assert f"Your email address is now {new}." in html and f'value="{new}"' in html

    used = client.get(path)
    assert used.status_code == 404 and "cannot be used" in text(used)


def test_signed_out_the_link_asks_to_sign_in_as_the_owner_and_comes_back(app, alice_client, mailbox):
    client, _user = alice_client
    new = f"{uuid.uuid4().hex[:10]}@example.com"
    form(client, "/account", "account-form").fill("email", new).submit(client)
    path = link_in(mailbox.for_(new))[len(PUBLIC) :]
    other_browser = app.test_client()
    opened = other_browser.get(path)
    html = text(opened)
    assert opened.status_code == 200 and 'id="email-confirm-form"' not in html
    assert "Only <strong>alice</strong> can confirm this" in html
    found = re.search(r'href="([^"]+)" id="email-confirm-login"', html)
    assert found, html
    login_page = found.group(1).replace("&amp;", "&")
    signed_in = form(other_browser, login_page, "login-form").fill("username", "alice").fill("password", PASSWORD)
    back = signed_in.submit(other_browser)
    assert back.status_code == 303 and back.headers["Location"] == path
    confirmed = form(other_browser, path, "email-confirm-form").submit(other_browser, follow_redirects=True)
    assert f"Your email address is now {new}." in text(confirmed) and f'value="{new}"' in text(confirmed)


def test_someone_else_signed_in_cannot_confirm_anothers_email_change(app, alice_client, make_user, mailbox, sso):
    """Issue 31 #4: Mal, signed in as himself, opened Alice's link and confirmed it; the audit named Alice."""
    client, alice = alice_client
    new = f"{uuid.uuid4().hex[:10]}@example.com"
    form(client, "/account", "account-form").fill("email", new).submit(client)
    path = link_in(mailbox.for_(new))[len(PUBLIC) :]
    make_user("mal")
    mal = app.test_client()
    assert web_login(mal, "mal").status_code == 303
    opened = mal.get(path)
    html = text(opened)
    assert opened.status_code == 403 and 'id="email-confirm-form"' not in html
    assert (
        element(html, "email-confirm-not-yours") and "You are signed in as <strong>mal</strong>, but this link" in html
    )
    forged = mal.post(path, data={"csrf_token": csrf_token(text(mal.get("/account")))})
    assert forged.status_code == 403
    assert sso.user.get_user_by_id("cid", alice["user_id"], *admin_args(sso))["email"] is None
    assert form(client, path, "email-confirm-form").submit(client).status_code == 303  # still hers to use


def admin_args(sso):
    sso.operator.create_local("root", PASSWORD, super_user=True)
    return sso.user.login("cid", "root", PASSWORD, "CRM", "::1").ust, "CRM", "::1"


def test_smtp_down_saves_at_once_and_the_confirmation_waits_for_the_server(db_url, mailbox):
    """Issue 27: before the outbox, SMTP down was a 503 and nothing saved; now the save goes through as with SMTP up
    (the address waits for its link), and the link's message waits in the outbox until the server answers."""
    down = create_app(
        config_for(
            db_url, SSO_SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SSO_SMTP_TIMEOUT=3, SSO_EMAIL_CHANGE_CONFIRM=True
        )
    )
    down.extensions["sso"].operator.create_local("dora", PASSWORD, super_user=False)  # (no worker of `app` here)
    client = down.test_client()
    assert web_login(client, "dora").status_code == 303
    account = form(client, "/account", "account-form")
    answer = account.fill("email", "dora@example.com").fill("display_name", "Dora").submit(client)
    assert answer.status_code == 303
    assert 'value="Dora"' in text(client.get("/account"))
    ctx = down.extensions["sso"].ctx
    assert run_until_empty(ctx, ctx.mailer) == 1
    assert [row["status"] for row in outbox_to(down.extensions["sso"], "dora@example.com")] == ["queued"]
    assert run_until_empty(ctx, Mailer({"SSO_SMTP_URL": mailbox.url})) == 1
    path = link_in(mailbox.for_("dora@example.com"))
    assert "/account/email/confirm/" in path
    down.extensions["sso_engine"].dispose()
