"""SCIM over real HTTP (gunicorn, 2 workers) on SQLite and PostgreSQL: what Microsoft Entra ID and Okta send,
replayed from their public provisioning documentation, with the result read through the Python API; a SCIM
PATCH racing a console save of another field; and the independent `scim2-tester` compliance checker."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx2
import pytest
import requests
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from webapp import create_app
from webapp.sso import Call

from ..conftest import FERNET_KEY, PASSWORD, app_config, fresh_database
from ..server import LiveServer, console_session, server_env
from ..web.html_forms import forms
from .conftest import ENTERPRISE, SCIM_USER, make_provisioner_role, patch_body

MEDIA = "application/scim+json"
PROFILE = "urn:ietf:params:scim:schemas:extension:sso:2.0:User"
MAPPED_FIELDS: list[dict[str, Any]] = [  # profile fields mapped to SCIM attributes (SPEC §16, §21)
    {
        "name": "department",
        "label": "Department",
        "type": "text",
        "searchable": True,
        "scim_path": f"{ENTERPRISE}:department",
    },
    {"name": "cost_code", "label": "Cost code", "type": "text", "scim_path": f"{PROFILE}:costCode"},
]


class Site:
    def __init__(self, url: str, sso, token: str, admin, admin_ust: str):
        self.url, self.sso, self.admin, self.admin_ust = url, sso, admin, admin_ust
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "Content-Type": MEDIA, "Accept": MEDIA})
        self.token = token

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, f"{self.url}/scim/v2{path}", timeout=60, **kwargs)

    def user(self, user_id: str):
        return self.sso.user.get_user_by_id("t", user_id, self.admin_ust, "CRM", "127.0.0.1")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    url = fresh_database(request.param, request, tmp_path_factory)
    app = create_app(app_config(url))
    sso = app.extensions["sso"]
    admin = sso.operator.create_local("admin", PASSWORD, super_user=True)
    admin_ust = sso.user.login("t", "admin", PASSWORD, "CRM", "127.0.0.1").ust
    role = make_provisioner_role(sso, admin_ust)
    token = sso.operator.create_scim_client("entra", role)
    admin_service = sso.serve(Call("t", admin_ust, "CRM", "127.0.0.1"))
    for definition in MAPPED_FIELDS:  # the checker writes and reads them back too
        admin_service.define_profile_field({**definition, "view": [role], "edit": [role]})
    with LiveServer(server_env(url, FERNET_KEY, SSO_LOGIN_MAX_FAILURES="0")) as server:
        yield Site(server.url, sso, token, admin, admin_ust)
    app.extensions["sso_engine"].dispose()
    assert " 500 " not in server.log.read_text()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def test_entra_id_provisioning_sequence(site):
    """Entra: a filtered GET before the create, the enterprise extension, capitalised ops, active as "False"."""
    name = unique("entra") + "@contoso.com"
    looked = site("GET", "/Users", params={"filter": f'userName eq "{name}"'})
    assert looked.status_code == 200 and looked.json()["totalResults"] == 0 and looked.json()["Resources"] == []
    created = site(
        "POST",
        "/Users",
        json={
            "schemas": [SCIM_USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": name,
            "active": True,
            "displayName": "Test User",
            "emails": [{"primary": True, "type": "work", "value": name}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
            ENTERPRISE: {"department": "Engineering"},
        },
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert created.headers["Location"].endswith(f"/scim/v2/Users/{user_id}")
    assert site.user(user_id)["department"] == "Engineering"  # the enterprise extension's, mapped to a field
    again = site("GET", "/Users", params={"filter": f'userName eq "{name.upper()}"'}).json()
    assert [r["id"] for r in again["Resources"]] == [user_id]
    by_external = site("GET", "/Users", params={"filter": 'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"'})
    assert [r["id"] for r in by_external.json()["Resources"]] == [user_id]

    replaced = site(
        "PATCH",
        f"/Users/{user_id}",
        json=patch_body(
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "changed@contoso.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Updated"},
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Sales"},
        ),
    )
    assert replaced.status_code == 200, replaced.text
    user = site.user(user_id)
    assert (user["email"], user["last_name"], user["first_name"]) == ("changed@contoso.com", "Updated", "Test")
    assert user["display_name"] == "Test User" and user.external_id == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    assert user["department"] == "Sales" and replaced.json()[ENTERPRISE] == {"department": "Sales"}
    in_sales = site("GET", "/Users", params={"filter": f'{ENTERPRISE}:department eq "sales" and userName eq "{name}"'})
    assert [r["id"] for r in in_sales.json()["Resources"]] == [user_id]

    removed = site("PATCH", f"/Users/{user_id}", json=patch_body({"op": "Remove", "path": "displayName"}))
    assert removed.status_code == 200
    user = site.user(user_id)
    assert user["display_name"] is None and user["last_name"] == "Updated" and user["email"] == "changed@contoso.com"

    # the person signs in; Entra deactivates them: locked, and the session is over
    ust = _sign_in(site, user_id)
    off = site("PATCH", f"/Users/{user_id}", json=patch_body({"op": "Replace", "path": "active", "value": "False"}))
    assert off.status_code == 200 and off.json()["active"] is False
    assert site.user(user_id)["is_locked"] is True
    assert site.sso.user.verify_session("t", ust, site.admin_ust, "CRM", "127.0.0.1") is False
    history = site.sso.user.history("t", user_id, site.admin_ust, "CRM", "127.0.0.1")
    assert {record["channel"] for record in history if record["action"] in ("create", "update")} == {"scim"}

    assert site("DELETE", f"/Users/{user_id}").status_code == 204
    assert site("GET", f"/Users/{user_id}").status_code == 404


def _sign_in(site, user_id: str) -> str:
    """Give the user a password from the command-line path and open a session for them."""
    username = site.user(user_id)["username"]
    site.sso.operator.set_password_local(username, PASSWORD)
    return site.sso.user.login("t", username, PASSWORD, "CRM", "127.0.0.1").ust


def test_okta_put_updates_and_patch_deactivation(site):
    name = unique("okta") + "@example.com"
    body = {
        "schemas": [SCIM_USER],
        "userName": name,
        "name": {"givenName": "John", "familyName": "Smith"},
        "emails": [{"primary": True, "value": name, "type": "work"}],
        "displayName": "John Smith",
        "active": True,
    }
    created = site("POST", "/Users", json=body)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    fetched = site("GET", f"/Users/{user_id}").json()
    fetched["name"] = {"givenName": "Johnny", "familyName": "Smith"}
    fetched.pop("displayName")
    put = site("PUT", f"/Users/{user_id}", json=fetched, headers={"If-Match": fetched["meta"]["version"]})
    assert put.status_code == 200, put.text
    user = site.user(user_id)
    assert (user["first_name"], user["last_name"], user["email"]) == ("Johnny", "Smith", name)
    assert user["display_name"] is None  # PUT: what it omits is cleared (RFC 7644 §3.5.1)
    off = site("PATCH", f"/Users/{user_id}", json=patch_body({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200 and site.user(user_id)["is_locked"] is True
    on = site("PATCH", f"/Users/{user_id}", json=patch_body({"op": "replace", "value": {"active": True}}))
    assert on.status_code == 200 and site.user(user_id)["is_locked"] is False


def test_patch_with_one_bad_operation_among_three_writes_nothing(site):
    created = site("POST", "/Users", json={"schemas": [SCIM_USER], "userName": unique("atomic"), "displayName": "D"})
    user_id = created.json()["id"]
    answer = site(
        "PATCH",
        f"/Users/{user_id}",
        json=patch_body(
            {"op": "replace", "path": "displayName", "value": "changed"},
            {"op": "add", "path": "name.givenName", "value": "G"},
            {"op": "replace", "path": "emails", "value": [{"value": "not an address", "primary": True}]},
        ),
    )
    assert answer.status_code == 400 and answer.json()["scimType"] == "invalidValue"
    user = site.user(user_id)
    assert (user["display_name"], user["first_name"], user["email"], user.version) == ("D", None, None, 1)


@pytest.mark.parametrize("round_", range(3))
def test_a_scim_patch_and_a_console_save_of_other_fields_at_once_both_survive(site, round_):
    created = site("POST", "/Users", json={"schemas": [SCIM_USER], "userName": unique("race")})
    user_id = created.json()["id"]
    http = console_session(site.url, "admin", PASSWORD)
    form = forms(http.get(f"{site.url}/users/{user_id}", timeout=30).text)["user-form"]
    form.fill("first_name", f"console-{round_}")
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def console() -> None:
        barrier.wait()
        sent = http.post(f"{site.url}{form.action}", data=form.data(), allow_redirects=False, timeout=60)
        answers["console"] = sent.status_code

    def scim() -> None:
        barrier.wait()
        operation = {"op": "replace", "path": "displayName", "value": f"scim-{round_}"}
        answers["scim"] = site("PATCH", f"/Users/{user_id}", json=patch_body(operation)).status_code

    threads = [threading.Thread(target=console), threading.Thread(target=scim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"console": 303, "scim": 200}
    user = site.user(user_id)
    assert (user["first_name"], user["display_name"]) == (f"console-{round_}", f"scim-{round_}")


def test_the_scim2_tester_compliance_checker_finds_no_failure(site):
    """The independent checker (scim2-tester, pinned in requirements-dev.txt): discovery, create, read,
    filtered queries, replace, every PATCH operation on every published attribute, delete, odd URLs."""
    with httpx2.Client(base_url=f"{site.url}/scim/v2", headers={"Authorization": f"Bearer {site.token}"}) as http:
        results = check_server(SyncSCIMClient(http))
    failures = [(r.title, r.reason) for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert failures == []
    assert sum(r.status == Status.SUCCESS for r in results) >= 40
