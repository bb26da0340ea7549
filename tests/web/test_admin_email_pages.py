"""An administrator's emails from the console without JavaScript (issue 27): Manage user's Emails card and the list's
bulk bar, plain form posts; each message received by a real SMTP server after the outbox worker runs; the
verify-email link's page; a throttled send says the limit; a help-desk reader is offered only what their role
allows."""

from __future__ import annotations

import uuid

import pytest

from webapp import create_app
from webapp.sso import Call
from webapp.sso.email.mail import Mailer
from webapp.sso.email.worker import run_until_empty

from ..conftest import PASSWORD
from ..conftest import app_config as config_for
from ..core.helpers import audit_of
from ..mailbox import link_in
from .conftest import web_login
from .html_forms import element, form, forms, text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PUBLIC = "https://sso.example.test"


@pytest.fixture
def app(db_url, mailbox):
    application = create_app(
        config_for(db_url, SSO_SMTP_URL=mailbox.url, SSO_SIGNUP_APPS=["CRM"], SSO_PUBLIC_URL=PUBLIC)
    )
    yield application
    application.extensions["sso_engine"].dispose()


def deliver(sso, mailbox) -> None:
    """The outbox worker's run: everything queued goes to the SMTP server."""
    run_until_empty(sso.ctx, Mailer({"SSO_SMTP_URL": mailbox.url}))


@pytest.fixture
def person(make_user, sso, admin_ust):
    def make(**attributes):
        name = f"p.{uuid.uuid4().hex[:8]}"
        user = make_user(name)
        sso.user.update_user_by_id(
            "c", user["user_id"], {"email": f"{name}@example.com", **attributes}, admin_ust, "CRM", "::1"
        )
        return {**user, "email": f"{name}@example.com"}

    return make


def test_each_email_from_manage_user_is_received_and_the_verify_link_page_confirms(admin_client, person, sso, mailbox):
    client, admin = admin_client
    user = person()
    html = text(client.get(f"/users/{user['user_id']}"))
    assert 'id="emails-card"' in html
    assert 'id="email-password_reset-button"' in html and 'id="email-verify_email-button"' in html
    assert 'id="email-signup_confirmation-button"' not in html  # a confirmed account: not offered

    answer = form(client, f"/users/{user['user_id']}", "email-password_reset-form").submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/users/{user['user_id']}"
    assert f"A password-reset link is on its way to {user['email']}." in text(client.get(answer.headers["Location"]))
    deliver(sso, mailbox)
    assert link_in(mailbox.for_(user["email"])).startswith(f"{PUBLIC}/password/reset/")

    form(client, f"/users/{user['user_id']}", "email-verify_email-form").submit(client)
    deliver(sso, mailbox)
    link = link_in(mailbox.for_(user["email"], count=2))
    assert link.startswith(f"{PUBLIC}/account/verify-email/")  # the required action's own page
    path = link[len(PUBLIC) :]
    stranger = client.application.test_client()  # the link needs no sign-in
    page = stranger.get(path)
    assert page.status_code == 200
    done = forms(text(page))["verify-link-form"].submit(stranger)
    assert done.status_code == 303
    again = forms(text(stranger.get(path)))["verify-link-form"].submit(stranger)
    assert again.status_code == 400  # used up
    [record] = audit_of(sso, user["user_id"], "verify_link_sent")
    assert (record["actor_id"], record["channel"]) == (admin["user_id"], "web")
    assert len(audit_of(sso, user["user_id"], "email_verified")) == 1


def test_the_sign_up_confirmation_again_for_an_unconfirmed_account(admin_client, sso, mailbox):
    client, _ = admin_client
    name = f"s.{uuid.uuid4().hex[:8]}"
    signed_up = sso.serve(Call(cid="c", current_app="CRM")).signup(
        {"username": name, "password": PASSWORD, "email": f"{name}@example.com", "app_list": ["CRM"]}
    )
    html = text(client.get(f"/users/{signed_up.user_id}"))
    assert 'id="email-signup_confirmation-button"' in html and 'id="email-password_reset-button"' not in html
    answer = form(client, f"/users/{signed_up.user_id}", "email-signup_confirmation-form").submit(client)
    assert answer.status_code == 303
    deliver(sso, mailbox)
    assert link_in(mailbox.for_(f"{name}@example.com")).startswith(f"{PUBLIC}/signup/confirm/")


def test_a_throttled_send_says_the_limit_and_sends_nothing(admin_client, person, sso, mailbox):
    client, _ = admin_client
    user = person()
    for _ in range(3):
        assert form(client, f"/users/{user['user_id']}", "email-password_reset-form").submit(client).status_code == 303
    refused = form(client, f"/users/{user['user_id']}", "email-password_reset-form").submit(client)
    assert refused.status_code == 429
    assert "at most 3 emails to this user within 60 minutes" in element(text(refused), "action-error")
    deliver(sso, mailbox)
    assert len(mailbox.to(user["email"])) == 3


def test_bulk_sends_to_the_ticked_users_and_lists_each_outcome(admin_client, person, make_user, sso, mailbox):
    client, _ = admin_client
    first, second = person(), person()
    no_email = make_user(f"plain.{uuid.uuid4().hex[:6]}")
    page = form(client, "/users", "bulk-form")
    assert 'value="send_password_reset"' in text(client.get("/users"))
    for user in (first, second, no_email):
        page.check("user_id", user["user_id"])
    page.fill("action", "send_password_reset")
    html = text(page.submit(client))
    assert "Send a password-reset link: results" in html
    assert "2 sent, 1 not done." in element(html, "bulk-summary")
    assert "Not done: this user has no email address" in html
    deliver(sso, mailbox)
    for user in (first, second):
        assert mailbox.for_(user["email"])["Subject"] == "Choose a new SSO password"


def test_a_help_desk_reader_is_offered_only_what_their_role_allows(app, make_user, person, sso, admin_ust):
    helper = make_user(f"desk.{uuid.uuid4().hex[:6]}")
    sso.serve(Call(cid="c", ust=admin_ust, current_app="CRM")).grant_role(helper["user_id"], "helpdesk")
    client = app.test_client()
    assert web_login(client, helper["username"]).status_code == 303
    user = person()
    html = text(client.get(f"/users/{user['user_id']}"))
    assert 'id="email-password_reset-button"' in html
    name = f"s.{uuid.uuid4().hex[:8]}"
    signed_up = sso.serve(Call(cid="c", current_app="CRM")).signup(
        {"username": name, "password": PASSWORD, "email": f"{name}@example.com", "app_list": ["CRM"]}
    )
    html = text(client.get(f"/users/{signed_up.user_id}"))
    assert 'id="emails-card"' not in html  # users.approve is not the help desk's
    token = form(client, f"/users/{user['user_id']}", "email-password_reset-form").value("csrf_token")
    crafted = client.post(
        f"/users/{signed_up.user_id}/email", data={"kind": "signup_confirmation", "csrf_token": token}
    )
    assert crafted.status_code == 403
