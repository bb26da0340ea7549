"""The console's API clients page lists SCIM clients (SPEC §21) and revokes one after a confirmation."""

from __future__ import annotations

from sqlalchemy import select

from webapp.sso.kernel.tables import audit


def test_scim_clients_are_listed_and_revoked_only_after_confirmation(app, admin_client, sso):
    client, admin = admin_client
    token = sso.operator.create_scim_client("entra.prod", "user-admin")
    page = client.get("/api-clients").get_data(as_text=True)
    listed = page.split('id="scim-clients-table"')[1]
    assert "entra.prod" in listed and "user-admin" in listed and token not in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    unconfirmed = client.post("/api-clients/scim/entra.prod/revoke", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422
    assert [c["name"] for c in sso.operator.list_scim_clients()] == ["entra.prod"]
    done = client.post("/api-clients/scim/entra.prod/revoke", data={"csrf_token": csrf, "confirm": "yes"})
    assert done.status_code == 303
    assert sso.operator.list_scim_clients() == []
    assert 'id="no-scim-clients"' in client.get("/api-clients").get_data(as_text=True)
    refused = app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    with app.extensions["sso_engine"].connect() as conn:
        row = conn.execute(select(audit).where(audit.c.action == "scim_client_revoke")).mappings().one()
    assert row["actor_id"] == admin["user_id"] and row["channel"] == "web"


def test_a_regular_user_cannot_revoke_a_scim_client(alice_client, sso):
    client, _ = alice_client
    sso.operator.create_scim_client("okta", "user-admin")
    assert client.post("/api-clients/scim/okta/revoke", data={"confirm": "yes"}).status_code in (400, 403)
    assert [c["name"] for c in sso.operator.list_scim_clients()] == ["okta"]
