"""My account → Your data (SPEC §20) without JavaScript: download my data (the password again after an old
sign-in), an administrator's copy from Manage user (audited), and a user who cannot fetch another's."""

from __future__ import annotations

import json

from ..conftest import PASSWORD
from ..core.helpers import audit_of, frozen_clock
from .html_forms import csrf_token, form


def test_download_my_data_gives_the_file_and_an_old_sign_in_asks_for_the_password(app, sso, alice_client):
    client, alice = alice_client
    account = client.get("/account").get_data(as_text=True)
    assert 'href="/account/privacy"' in account

    answer = form(client, "/account/privacy", "export-form").submit(client)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="my-data-alice.json"'
    document = json.loads(answer.get_data(as_text=True))
    assert document["user"]["user_id"] == alice["user_id"] and document["produced_by"] == "self"

    clock = frozen_clock(sso)
    clock(minutes=30)
    refused = form(client, "/account/privacy", "export-form").submit(client)
    assert refused.status_code == 403
    assert 'id="export-password-error"' in refused.get_data(as_text=True)
    assert "needs a sign-in within the last 5 minutes" in refused.get_data(as_text=True)
    again = form(client, "/account/privacy", "export-form").fill("password", PASSWORD).submit(client)
    assert again.status_code == 200 and json.loads(again.get_data(as_text=True))["format"] == "sso-user-export"


def test_an_administrator_downloads_a_users_data_from_manage_user_audited(app, sso, admin_client, make_user):
    client, admin = admin_client
    bob = make_user("bob")
    answer = form(client, f"/users/{bob['user_id']}", "user-export-form").submit(client)
    assert answer.status_code == 200
    document = json.loads(answer.get_data(as_text=True))
    assert (document["user"]["username"], document["produced_by"]) == ("bob", "an administrator")
    assert audit_of(sso, bob["user_id"], "export")[-1]["actor_id"] == admin["user_id"]


def test_a_regular_user_cannot_download_anothers_data(app, make_user, alice_client):
    client, _ = alice_client
    bob = make_user("bob")
    token = csrf_token(client.get("/account/privacy").get_data(as_text=True))
    answer = client.post(f"/users/{bob['user_id']}/export", data={"csrf_token": token})
    assert answer.status_code == 403
    assert "application/json" not in answer.headers["Content-Type"]
