"""Roles in the console (SPEC §17): each page offers only what its reader may do, a direct URL or a crafted
POST outside their permissions is the 403 page and writes nothing, the Roles pages and the Roles card."""

from __future__ import annotations

import re

import pytest

from .conftest import web_login
from .html_forms import csrf_token, form, forms, text
from .test_one_authentication import session_lookups


def _holder(sso, make_user, app, name: str, role: str | None):
    """A user holding `role`, logged in to the console: (client, user)."""
    user = make_user(name)
    if role:
        sso.operator.grant_role_local(name, role)
    client = app.test_client()
    assert web_login(client, name).status_code == 303
    return client, user


@pytest.fixture
def helpdesk(app, sso, make_user):
    return _holder(sso, make_user, app, "hilda", "helpdesk")


@pytest.fixture
def auditor(app, sso, make_user):
    return _holder(sso, make_user, app, "otto", "auditor")


def _stored(sso, admin_ust, user_id):
    return sso.user.get_user_by_id("c", user_id, admin_ust, "CRM", "::1")


def test_a_help_desk_page_offers_unlock_and_credentials_but_not_delete_or_editing_the_email(
    helpdesk, make_user, sso, admin_ust
):
    client, _ = helpdesk
    bob = make_user("bob")
    sso.user.lock_user("c", bob["user_id"], admin_ust, "CRM", "::1")
    html = text(client.get(f"/users/{bob['user_id']}"))
    page = forms(html)
    assert "unlock-form" in page and "set-password-form" in page
    assert 'id="delete-button"' not in html
    assert 'name="email"' not in html and 'id="field-email"' in html and "(view only)" in html
    assert 'name="is_locked"' in html  # users.lock: a control
    assert 'id="history-download"' not in html  # audit.view
    assert 'id="grant-role-form"' not in html  # roles.manage
    nav = html.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'id="nav-users"' in nav and 'id="nav-roles"' in nav and 'id="nav-api-clients"' not in nav
    assert page["unlock-form"].submit(client).status_code == 303
    assert _stored(sso, admin_ust, bob["user_id"])["is_locked"] is False


def test_a_crafted_delete_or_email_post_from_the_help_desk_is_the_403_page_and_writes_nothing(
    helpdesk, make_user, sso, admin_ust
):
    client, _ = helpdesk
    bob = make_user("bob")
    html = text(client.get(f"/users/{bob['user_id']}"))
    before = _stored(sso, admin_ust, bob["user_id"])
    deleted = client.post(f"/users/{bob['user_id']}/delete", data={"csrf_token": csrf_token(html)})
    assert deleted.status_code == 403 and "Not allowed" in text(deleted)
    crafted = client.post(
        f"/users/{bob['user_id']}",
        data={"csrf_token": csrf_token(html), "email": "taken@evil.test", "version": str(before.version)},
    )
    assert crafted.status_code == 403 and "You may not change Email" in text(crafted)
    confirm = client.get(f"/users/{bob['user_id']}/confirm?action=delete")
    assert confirm.status_code == 403
    assert _stored(sso, admin_ust, bob["user_id"]) == before


def test_an_auditor_reads_every_field_but_has_no_save_no_actions_and_no_user_creation(auditor, make_user, sso):
    client, _ = auditor
    bob = make_user("bob")
    html = text(client.get(f"/users/{bob['user_id']}"))
    assert 'id="save"' not in html and 'id="view-only-note"' in html
    assert "unlock-form" not in forms(html) and "lock-button" not in html and "set-password-form" not in html
    assert 'id="history-download"' in html  # audit.view
    listing = text(client.get("/users"))
    assert 'id="create-user-link"' not in listing and 'id="bulk-bar"' not in listing
    assert client.get("/users/new").status_code == 403
    assert client.get("/roles/new").status_code == 403
    assert client.get("/api-clients").status_code == 403


def test_a_person_without_a_role_gets_the_403_page_on_manage_users(alice_client):
    client, _ = alice_client
    assert client.get("/users").status_code == 403
    assert client.get("/roles").status_code == 403
    assert 'id="nav-roles"' not in text(client.get("/account"))


def test_a_help_desk_bulk_lock_skips_a_super_user_as_not_allowed(helpdesk, make_user, sso):
    client, _ = helpdesk
    bob = make_user("bob")
    boss = make_user("boss", super_user=True)
    html = text(client.get("/users"))
    response = client.post(
        "/users/bulk",
        data={
            "csrf_token": csrf_token(html),
            "action": "lock",
            "confirmed": "1",
            "user_id": [bob["user_id"], boss["user_id"]],
        },
    )
    assert response.status_code == 200
    result = text(response)
    assert "not allowed" in result.split(boss["username"], 1)[1].split("</tr>")[0]
    assert sso.operator.user_id_of("boss")  # still there
    bulk_bar = html.split('id="bulk-bar"')[1].split("</select>")[0]
    assert set(re.findall(r'<option value="([^"]+)"', bulk_bar)) == {
        "lock",
        "unlock",
        "sign_out",
        "send_password_reset",  # users.credentials: the help desk sends reset and verify-email links
        "send_verify_email",
    }


def test_roles_are_created_edited_granted_revoked_and_deleted_from_the_console(admin_client, make_user, sso, admin_ust):
    client, _ = admin_client
    new = form(client, "/roles/new", "role-form")
    new.fill("name", "desk").fill("description", "Front desk").check("permissions", "users.view")
    new.check("permissions", "users.lock")
    assert new.submit(client).status_code == 303
    html = text(client.get("/roles/desk"))
    assert "Lock and unlock users" in html and 'id="no-holders"' in html
    bob = make_user("bob")
    grant = form(client, f"/users/{bob['user_id']}", "grant-role-form")
    grant.fill("grant", "desk")
    assert grant.submit(client).status_code == 303
    assert "bob" in text(client.get("/roles/desk")).split('id="holders-card"')[1]
    edit = form(client, "/roles/desk", "role-form")
    edit.check("permissions", "users.lock", on=False)
    assert edit.submit(client).status_code == 303
    assert sso.user.get_role("c", "desk", admin_ust, "CRM", "::1")["permissions"] == ["users.view"]
    assert "delete-role-form" not in forms(text(client.get("/roles/desk")))
    page = text(client.get(f"/users/{bob['user_id']}"))
    revoke = client.post(f"/users/{bob['user_id']}/roles", data={"csrf_token": csrf_token(page), "revoke": "desk"})
    assert revoke.status_code == 303
    delete = form(client, "/roles/desk", "delete-role-form").check("confirm", "yes")
    assert delete.submit(client).status_code == 303
    assert client.get("/roles/desk").status_code == 404


def test_bad_role_input_in_the_console_is_shown_beside_the_field(admin_client):
    client, _ = admin_client
    new = form(client, "/roles/new", "role-form").fill("name", "Has Space")
    response = new.submit(client)
    assert response.status_code == 422
    assert "must start with a lowercase letter" in text(response)
    taken = form(client, "/roles/new", "role-form").fill("name", "helpdesk").submit(client)
    assert taken.status_code == 422 and "a role with this name exists" in text(taken)


def test_a_role_manager_cannot_tick_a_permission_they_lack(app, sso, make_user, admin_ust):
    sso.user.create_role(
        "c", {"name": "role-admin", "permissions": ["users.view", "roles.manage"]}, admin_ust, "CRM", "::1"
    )
    client, _ = _holder(sso, make_user, app, "rita", "role-admin")
    html = text(client.get("/roles/new"))
    [delete_box] = re.findall(r'<input[^>]*id="perm-users-delete"[^>]*>', html)
    assert "disabled" in delete_box
    crafted = client.post(
        "/roles/new", data={"csrf_token": csrf_token(html), "name": "deleter", "permissions": ["users.delete"]}
    )
    assert crafted.status_code == 403
    assert [r["name"] for r in sso.user.list_roles("c", admin_ust, "CRM", "::1")] == [
        "auditor",
        "helpdesk",
        "role-admin",
        "user-admin",
    ]


def test_a_help_desk_page_looks_the_session_and_its_roles_up_once(app, helpdesk, make_user):
    client, _ = helpdesk
    bob = make_user("bob")
    client.get(f"/users/{bob['user_id']}")  # a first GET may renew the session; count the next ones
    lookups = session_lookups(app)
    assert client.get(f"/users/{bob['user_id']}").status_code == 200
    assert len(lookups) == 1 and "sso_user_role" in lookups[0], "the caller's roles come with the session"
    assert "roles: helpdesk" in text(client.get("/account"))


def test_a_grant_reads_in_words_in_the_users_history(admin_client, make_user):
    client, _ = admin_client
    bob = make_user("bob")
    grant = form(client, f"/users/{bob['user_id']}", "grant-role-form")
    grant.fill("grant", "auditor")
    assert grant.submit(client).status_code == 303
    history = text(client.get(f"/users/{bob['user_id']}/history"))
    assert "Role granted" in history and "auditor" in history
    assert "[&#39;auditor&#39;]" not in history and "[]" not in history  # names in words, not a Python list
    assert 'id="held-role-auditor"' in text(client.get(f"/users/{bob['user_id']}"))
