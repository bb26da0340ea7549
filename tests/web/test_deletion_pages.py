"""Delete my account in the console (SPEC §20), without JavaScript, the email read from a real SMTP server:
the confirmation says what happens and when; the password and the tick are required; the person is signed
out; the emailed link with the password keeps the account; administrators see "deletion scheduled" on the
list (filtered) and on Manage user, and cancel it there."""

from __future__ import annotations

import pytest

from webapp import create_app

from ..conftest import FAST_WORKER, PASSWORD, app_config, delivering
from ..core.helpers import audit_of, row_of
from ..mailbox import link_in
from .conftest import web_login
from .html_forms import form, forms

PUBLIC = "http://accounts.example.test"


@pytest.fixture
def app(db_url, mailbox):
    application = create_app(app_config(db_url, SSO_SMTP_URL=mailbox.url, SSO_PUBLIC_URL=PUBLIC, **FAST_WORKER))
    with delivering(application.extensions["sso"].ctx):  # the outbox's worker, as `sso worker` runs it
        yield application
    application.extensions["sso_engine"].dispose()


def _signed_in(app, sso, make_user, username: str, email: str | None):
    user = make_user(username)
    if email:
        root = make_user(f"root-{username}", super_user=True)
        ust = sso.user.login("c", root["username"], PASSWORD, "CRM", "x").ust
        sso.user.update_user_by_id("c", user["user_id"], {"email": email}, ust, "CRM", "x")
    client = app.test_client()
    assert web_login(client, username).status_code == 303
    return client, user


def test_delete_my_account_then_keep_it_with_the_emailed_link(app, sso, make_user, mailbox):
    client, user = _signed_in(app, sso, make_user, "dora", "dora@example.org")
    page = client.get("/account/privacy").get_data(as_text=True)
    assert 'id="delete-consequences"' in page and "dora@example.org" in page and "14 days from now" in page

    missing = form(client, "/account/privacy", "delete-form").submit(client)
    body = missing.get_data(as_text=True)
    assert missing.status_code == 422 and 'id="delete-confirm-error"' in body and "Give your password" in body
    wrong = form(client, "/account/privacy", "delete-form").fill("password", "nope").check("confirm").submit(client)
    assert wrong.status_code == 403 and "is not your current password" in wrong.get_data(as_text=True)
    assert row_of(sso, user["user_id"])["deletion_time"] is None

    done = form(client, "/account/privacy", "delete-form").fill("password", PASSWORD).check("confirm").submit(client)
    assert done.status_code == 200 and 'id="deletion-scheduled-page"' in done.get_data(as_text=True)
    assert row_of(sso, user["user_id"])["is_locked"] is True
    assert client.get("/account").status_code == 303  # signed out

    link = link_in(mailbox.for_("dora@example.org"))
    assert link.startswith(PUBLIC + "/account/keep/")
    path = link[len(PUBLIC) :]
    keep = forms(client.get(path).get_data(as_text=True))["keep-form"]
    bad = client.post(path, data={"csrf_token": keep.value("csrf_token"), "password": "nope"})
    assert bad.status_code == 403 and row_of(sso, user["user_id"])["is_locked"] is True
    kept = client.post(path, data={"csrf_token": keep.value("csrf_token"), "password": PASSWORD})
    assert kept.status_code == 303 and kept.headers["Location"].endswith("/login")
    assert row_of(sso, user["user_id"])["deletion_time"] is None
    assert client.get(path).status_code == 404  # used
    assert client.get("/account/keep/" + "A" * 43).status_code == 404  # forged
    assert web_login(client, "dora").status_code == 303


def test_administrators_see_scheduled_deletions_and_cancel_one(app, sso, make_user, admin_client):
    client, admin = admin_client
    ed = make_user("ed")
    sso.user.schedule_deletion("c", PASSWORD, sso.user.login("c", "ed", PASSWORD, "CRM", "x").ust, "CRM", "x")

    listed = client.get("/users?deleting=yes").get_data(as_text=True)
    assert "ed" in listed and "Deletion scheduled on" in listed
    assert "Deletion scheduled on" not in client.get("/users?deleting=no").get_data(as_text=True)
    edit = client.get(f"/users/{ed['user_id']}").get_data(as_text=True)
    assert 'id="user-deletion-badge"' in edit and 'id="delete-now-button"' in edit

    cancelled = form(client, f"/users/{ed['user_id']}", "cancel-deletion-form").submit(client)
    assert cancelled.status_code == 303
    row = row_of(sso, ed["user_id"])
    assert (row["deletion_time"], row["is_locked"]) == (None, False)
    assert audit_of(sso, ed["user_id"], "deletion_cancelled")[-1]["actor_id"] == admin["user_id"]
