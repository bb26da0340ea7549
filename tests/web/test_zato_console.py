"""The console's parts of the Zato drop-in: attributes on Manage user (read-only), the API clients page."""

from __future__ import annotations

from sqlalchemy import select

from webapp.sso.kernel.tables import audit

from ..conftest import PASSWORD


def test_manage_user_lists_attribute_names_and_expiry_but_never_values(admin_client, make_user, sso):
    client, _ = admin_client
    bob = make_user("bob")
    ust = sso.user.login("cid", "bob", PASSWORD, "CRM", "127.0.0.1").ust
    sso.user.user_attr("cid", "create", None, {"name": "favourite", "value": "very-private-value"}, ust, "CRM", "x")
    sso.user.user_attr(
        "cid", "create", None, {"name": "token", "value": 1, "expiration": 3600, "encrypt": True}, ust, "CRM", "x"
    )
    html = client.get(f"/users/{bob['user_id']}").get_data(as_text=True)
    assert 'id="free-attrs-table"' in html and "favourite" in html and "token" in html
    assert "very-private-value" not in html and "encrypted" in html and "never" in html


def test_api_clients_are_listed_and_revoked_only_after_confirmation(admin_client, sso, make_user):
    client, _ = admin_client
    sso.operator.create_api_client("crm.backend")
    page = client.get("/api-clients").get_data(as_text=True)
    assert "crm.backend" in page and "not linked" in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    unconfirmed = client.post("/api-clients/crm.backend/revoke", data={"csrf_token": token})
    assert unconfirmed.status_code == 422
    assert "crm.backend" in client.get("/api-clients").get_data(as_text=True)
    done = client.post("/api-clients/crm.backend/revoke", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    assert (
        "crm.backend"
        not in client.get("/api-clients")
        .get_data(as_text=True)
        .split("</h1>")[1]
        .split("API client crm.backend revoked")[-1]
    )


def test_a_regular_user_cannot_see_the_api_clients(alice_client):
    client, _ = alice_client
    assert client.get("/api-clients").status_code == 403
    assert client.post("/api-clients/x/revoke", data={"confirm": "yes"}).status_code in (400, 403)


def test_revoking_an_api_client_from_the_console_audits_the_consoles_call(app, admin_client, sso):
    """The record says the console's correlation id, channel, application, address and user agent (it said
    cid "web" and no user agent before the service took a `Call`)."""
    client, admin = admin_client
    sso.operator.create_api_client("crm.audited")
    page = client.get("/api-clients").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(
        "/api-clients/crm.audited/revoke",
        data={"csrf_token": token, "confirm": "yes"},
        headers={"User-Agent": "Revoker/1.0"},
    )
    assert done.status_code == 303
    with app.extensions["sso_engine"].connect() as conn:
        row = (
            conn.execute(select(audit).where(audit.c.action == "api_client_revoke").order_by(audit.c.id.desc()))
            .mappings()
            .first()
        )
    assert row is not None
    assert row["actor_id"] == admin["user_id"] and row["channel"] == "web"
    assert row["cid"] != "web" and len(row["cid"]) == 32, "the request's own correlation id"
    assert row["user_agent"] == "Revoker/1.0" and row["current_app"] == app.config["SSO_CONSOLE_APP"]
    assert row["remote_addr"] == "127.0.0.1"


def test_revoking_an_api_client_that_does_not_exist_says_no_such_api_client(admin_client, sso):
    client, _ = admin_client
    sso.operator.create_api_client("crm.backend")
    page = client.get("/api-clients").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    missing = client.post("/api-clients/no.such.client/revoke", data={"csrf_token": token, "confirm": "yes"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert "<h1>No such API client</h1>" in html and "No such user" not in html
    assert "crm.backend" in client.get("/api-clients").get_data(as_text=True)
