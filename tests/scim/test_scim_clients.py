"""SCIM clients (SPEC §21): created from the command line with a token printed once and kept only as a hash,
throttled per client, refused once revoked; the audit names the client."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest
from sqlalchemy import select

from webapp import create_app
from webapp.config import ConfigError
from webapp.sso.kernel.tables import audit, scim_clients

from ..conftest import app_config
from ..core.helpers import frozen_clock
from .conftest import PATCH_OP, SCIM_USER, make_provisioner_role


def test_the_cli_prints_the_token_once_and_keeps_only_its_hash(app, sso):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sso", "create-scim-client", "entra", "--role", "user-admin"])
    assert result.exit_code == 0, result.output
    token = result.output.split("(shown only now): ")[1].strip()
    assert len(token) >= 40
    with app.extensions["sso_engine"].connect() as conn:
        row = conn.execute(select(scim_clients)).mappings().one()
        created = conn.execute(select(audit).where(audit.c.action == "scim_client_create")).mappings().one()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest() and token not in str(dict(row))
    assert (row["name"], row["role"], created["channel"]) == ("entra", "user-admin", "cli")
    answer = app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    again = runner.invoke(args=["sso", "create-scim-client", "entra", "--role", "user-admin"])
    assert again.exit_code != 0 and "exists" in again.output
    bad_role = runner.invoke(args=["sso", "create-scim-client", "okta", "--role", "two words"])
    assert bad_role.exit_code != 0 and "role" in bad_role.output
    no_role = runner.invoke(args=["sso", "create-scim-client", "okta", "--role", "nosuch"])
    assert no_role.exit_code != 0 and "no such role" in no_role.output
    revoked = runner.invoke(args=["sso", "revoke-scim-client", "entra"])
    assert revoked.exit_code == 0
    answer = app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json["status"] == "401"


def test_a_client_over_its_rate_is_refused_in_scims_shape(db_url):
    app = create_app(app_config(db_url, SSO_SCIM_RATE_LIMIT="3/m"))
    try:
        token = app.extensions["sso"].operator.create_scim_client("busy", "user-admin")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [client.get("/scim/v2/Users", headers=headers).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        over = client.get("/scim/v2/Users", headers=headers)
        assert over.status_code == 429 and over.json is not None and over.json["status"] == "429"
        assert int(over.headers["Retry-After"]) >= 1
        other = app.extensions["sso"].operator.create_scim_client("quiet", "user-admin")
        assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    finally:
        app.extensions["sso_engine"].dispose()


def test_workers_counting_from_leases_together_serve_exactly_the_limit(db_url):
    """Two apps on one database (two workers): each takes blocks of the window's allowance (300/h: 3 a
    block) and spends them without the database; together they serve the limit, not one request more."""
    apps = [create_app(app_config(db_url, SSO_SCIM_RATE_LIMIT="300/h")) for _ in range(2)]
    try:
        token = apps[0].extensions["sso"].operator.create_scim_client("busy", "user-admin")
        at = datetime(2026, 6, 1, 12, 30)  # mid-window: a real clock could cross the hour while it runs
        for app in apps:
            frozen_clock(app.extensions["sso"], at)
        clients = [app.test_client() for app in apps]
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [
            clients[0 if turn % 3 else 1].get("/scim/v2/Users?count=1", headers=headers).status_code
            for turn in range(400)  # uneven turns: the first worker asks twice as often
        ]
        assert statuses.count(200) == 300 and statuses.count(429) == 100
    finally:
        for app in apps:
            app.extensions["sso_engine"].dispose()


def test_a_malformed_scim_rate_stops_the_start(db_url):
    with pytest.raises(ConfigError, match="SSO_SCIM_RATE_LIMIT"):
        create_app(app_config(db_url, SSO_SCIM_RATE_LIMIT="lots"))


def test_a_client_acts_with_its_roles_permissions(app, sso, admin):
    """A client whose role may read but not delete users reads them and is refused a delete (403, SCIM's
    shape); a role deleted from under it leaves it no permission."""
    role = make_provisioner_role(sso, admin[1], "reader", ["users.view", "users.create", "users.approve"])
    token = sso.operator.create_scim_client("reader", role)
    app_client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    made = app_client.post("/scim/v2/Users", json={"schemas": [SCIM_USER], "userName": "kim"}, headers=headers)
    assert made.status_code == 201, made.json
    assert app_client.get(f"/scim/v2/Users/{made.json['id']}", headers=headers).status_code == 200
    refused = app_client.delete(f"/scim/v2/Users/{made.json['id']}", headers=headers)
    assert refused.status_code == 403 and refused.json["status"] == "403"
    patch = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    locked = app_client.patch(f"/scim/v2/Users/{made.json['id']}", json=patch, headers=headers)
    assert locked.status_code == 403
    assert sso.operator.user_id_of("kim") == made.json["id"]
