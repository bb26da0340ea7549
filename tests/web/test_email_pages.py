"""The console's email pages without JavaScript (Flask test client, SQLite, a real SMTP server on loopback)."""

from __future__ import annotations

import uuid

import pytest

from webapp import create_app
from webapp.sso.email.mail import Mailer
from webapp.sso.email.worker import run_until_empty

from ..conftest import FAST_WORKER, PASSWORD, delivering
from ..conftest import app_config as config_for
from ..core.helpers import outbox_to
from ..mailbox import link_in, token_in
from ..server import free_port
from .conftest import web_login
from .html_forms import form, text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PUBLIC = "https://sso.example.test"
NEW_PASSWORD = "Brand-New-Horse-31"


@pytest.fixture
def app(db_url, mailbox):
    application = create_app(
        config_for(
            db_url,
            SSO_SMTP_URL=mailbox.url,
            SSO_SIGNUP_APPS=["Console"],
            SSO_SIGNUP_APPROVAL_NEEDED=False,
            SSO_PUBLIC_URL=PUBLIC,
            **FAST_WORKER,
        )
    )
    with delivering(application.extensions["sso"].ctx):
        yield application
    application.extensions["sso_engine"].dispose()


def path_of(link: str) -> str:
    assert link.startswith(PUBLIC)
    return link[len(PUBLIC) :]


def sign_up(client, username: str, email: str, password: str = PASSWORD, again: str | None = None):
    page = form(client, "/signup", "signup-form")
    page.fill("username", username).fill("email", email).fill("password", password)
    page.fill("confirm_password", password if again is None else again)
    return page.submit(client)


def test_the_login_page_offers_sign_up_and_forgot_password_only_sign_up_when_it_is_open(client, db_url, mailbox):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/signup"' in html and 'href="/password/forgot"' in html
    closed_app = create_app(config_for(db_url, SSO_SMTP_URL=mailbox.url))
    closed = closed_app.test_client()
    html = closed.get("/login").get_data(as_text=True)
    assert 'href="/signup"' not in html and 'href="/password/forgot"' in html
    assert closed.get("/signup").status_code == 404
    closed_app.extensions["sso_engine"].dispose()


def test_sign_up_check_your_email_confirm_then_log_in(client, mailbox):
    name, email = f"new-{uuid.uuid4().hex[:6]}", f"{uuid.uuid4().hex[:8]}@example.com"
    answer = sign_up(client, name, email)
    assert answer.status_code == 303 and answer.headers["Location"] == "/signup/sent"
    assert email in text(client.get("/signup/sent"))

    path = path_of(link_in(mailbox.for_(email)))
    opened = client.get(path)
    assert opened.status_code == 200 and name in text(opened)
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in opened.headers["Content-Security-Policy"]
    assert web_login(client, name).status_code == 401, "opening the link alone confirms nothing"

    confirmed = form(client, path, "confirm-form").submit(client)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/login"
    assert web_login(client, name).status_code == 303

    again = client.get(path, follow_redirects=True)
    assert "already confirmed" in text(again)


def test_sign_up_errors_are_shown_on_their_fields_and_nothing_is_sent(client, sso):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    answer = sign_up(client, "has space", email, "short")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="signup-username-error"' in html and "must not contain whitespace" in html
    assert "at least 8 characters" in html
    assert sign_up(client, "fine-" + uuid.uuid4().hex[:6], email, again="Other-Horse-77").status_code == 422
    assert outbox_to(sso, email) == []


def test_smtp_down_changes_nothing_for_the_person_and_the_message_goes_once_it_is_back(db_url, mailbox):
    """Issue 27: before the outbox, SMTP down was a 503 page; now the person is told to check their email at once,
    and the message waits in the outbox until the SMTP server answers."""
    down = create_app(
        config_for(
            db_url, SSO_SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SSO_SMTP_TIMEOUT=3, SSO_SIGNUP_APPS=["Console"]
        )
    )
    client, email = down.test_client(), f"{uuid.uuid4().hex[:8]}@example.com"
    answer = sign_up(client, "new-" + uuid.uuid4().hex[:6], email)
    assert answer.status_code == 303 and answer.headers["Location"] == "/signup/sent"
    forgot = form(client, "/password/forgot", "forgot-form").fill("credential", "anyone")
    answer = forgot.submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/password/forgot/sent"

    ctx = down.extensions["sso"].ctx
    assert run_until_empty(ctx, ctx.mailer) == 1  # the server is not there: the message stays queued
    [waiting] = outbox_to(down.extensions["sso"], email)
    assert (waiting["status"], waiting["attempts"]) == ("queued", 1)
    assert run_until_empty(ctx, Mailer({"SSO_SMTP_URL": mailbox.url})) == 1  # back
    assert mailbox.for_(email)["Message-ID"] == waiting["message_id"]
    down.extensions["sso_engine"].dispose()


def test_forgot_password_then_the_link_sets_a_new_password(client, make_user, sso, mailbox):
    name = f"forgetful-{uuid.uuid4().hex[:6]}"
    user = make_user(name)
    admin = make_user("boss", super_user=True)
    admin_ust = sso.user.login("c", admin["username"], PASSWORD, "CRM", "127.0.0.1").ust
    sso.user.update_user_by_id("c", user["user_id"], {"email": f"{name}@example.com"}, admin_ust, "CRM", "127.0.0.1")

    for credential in (name, "nobody-" + uuid.uuid4().hex[:6]):
        answer = form(client, "/password/forgot", "forgot-form").fill("credential", credential).submit(client)
        assert answer.status_code == 303 and answer.headers["Location"] == "/password/forgot/sent"
    message = mailbox.for_(f"{name}@example.com")
    path = path_of(link_in(message))

    page = client.get(path)
    assert page.status_code == 200 and name in text(page) and page.headers["Referrer-Policy"] == "no-referrer"
    weak = form(client, path, "reset-form").fill("new_password", "short").fill("confirm_password", "short")
    refused = weak.submit(client)
    assert refused.status_code == 422 and "at least 8 characters" in text(refused)
    done = form(client, path, "reset-form").fill("new_password", NEW_PASSWORD).fill("confirm_password", NEW_PASSWORD)
    answer = done.submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert web_login(client, name, NEW_PASSWORD).status_code == 303

    used = client.get(path)
    assert used.status_code == 404 and "cannot be used" in text(used)
    assert client.get("/password/reset/" + token_in(message)[::-1]).status_code == 404
