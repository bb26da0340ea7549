"""SCIM fixtures: a SCIM client's token and a test client that sends it."""

from __future__ import annotations

import pytest

SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch_body(*operations: dict) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def user_body(username: str, **extra) -> dict:
    return {"schemas": [SCIM_USER], "userName": username, **extra}


class Scim:
    """The Flask test client speaking SCIM with a bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}

    def __getattr__(self, method: str):
        def send(path: str, headers: dict | None = None, **kwargs):
            return getattr(self.client, method)(
                f"/scim/v2{path}", headers={**self.headers, **(headers or {})}, **kwargs
            )

        return send


PROVISIONER = "provisioner"
# What a directory needs: every permission on users (SPEC §17), deleting included.
PROVISIONER_PERMISSIONS = [
    "users.view",
    "users.create",
    "users.edit",
    "users.lock",
    "users.approve",
    "users.credentials",
    "users.sessions",
    "users.delete",
    "users.attributes",
]


def make_provisioner_role(sso, admin_ust: str, name: str = PROVISIONER, permissions=None) -> str:
    """A role for SCIM clients, created by the super-user through the Python API."""
    data = {"name": name, "description": "SCIM provisioning", "permissions": permissions or PROVISIONER_PERMISSIONS}
    sso.user.create_role("t", data, admin_ust, "CRM", "127.0.0.1")
    return name


@pytest.fixture
def scim_token(sso, admin):
    return sso.operator.create_scim_client("directory", make_provisioner_role(sso, admin[1]))


@pytest.fixture
def scim(app, scim_token):
    return Scim(app.test_client(), scim_token)
