"""SPEC §13 linked credentials over real HTTP: an API client, its link, calls with HTTP Basic."""

from __future__ import annotations

from sqlalchemy import select

from webapp import create_app
from webapp.sso.kernel.tables import api_clients

from ..conftest import app_config
from .client import random_data


def _client(zato) -> tuple[str, str]:
    name = "client." + random_data()[5:17]
    return name, zato.sso.operator.create_api_client(name)


def test_a_linked_api_client_acts_as_its_user_and_gets_the_ust_in_a_header(zato):
    user_id, _, _ = zato.create_and_approve_user()
    name, secret = _client(zato)
    zato.client.post(
        "/zato/sso/user/linked",
        {
            "ust": zato.super_user_ust,
            "user_id": user_id,
            "auth_type": "zato.basic_auth",
            "auth_username": name,
            "is_active": True,
        },
    )
    listed = zato.client.get("/zato/sso/user/linked", {"ust": zato.super_user_ust, "user_id": user_id}).result
    assert [(link["auth_type"], link["auth_username"], link["is_active"]) for link in listed] == [
        ("zato.basic_auth", name, True)
    ]
    first = zato.client.get("/zato/sso/user", {"current_app": "CRM"}, auth=(name, secret))
    assert first.user_id == user_id
    ust = first.http.headers["X-Zato-SSO-UST"]
    assert zato.client.get("/zato/sso/user", {"ust": ust}).user_id == user_id, "the header's UST works alone"
    second = zato.client.get("/zato/sso/user", {"current_app": "CRM"}, auth=(name, secret))
    assert zato.client.get("/zato/sso/user", {"ust": second.http.headers["X-Zato-SSO-UST"]}).user_id == user_id
    wrong = zato.client.get("/zato/sso/user", {"current_app": "CRM"}, False, auth=(name, secret + "x"))
    assert (wrong.http.status_code, wrong.sub_status) == (403, ["E005001"])
    assert "X-Zato-SSO-UST" not in wrong.http.headers

    zato.client.delete(
        "/zato/sso/user/linked",
        {"ust": zato.super_user_ust, "user_id": user_id, "auth_type": "zato.basic_auth", "auth_username": name},
    )
    unlinked = zato.client.get("/zato/sso/user", {"current_app": "CRM"}, False, auth=(name, secret))
    assert unlinked.sub_status == ["E005001"]
    ended = zato.client.get("/zato/sso/user", {"ust": ust}, False)
    assert ended.sub_status == ["E007001"], "unlinking ends the link's session"


def test_a_revoked_client_is_refused_and_only_super_users_link(zato):
    user_id, username, password = zato.create_and_approve_user()
    name, secret = _client(zato)
    link = {"user_id": user_id, "auth_type": "zato.basic_auth", "auth_username": name}
    regular = zato.client.post("/zato/sso/user/linked", {"ust": zato.login(username, password), **link}, False)
    assert (regular.http.status_code, regular.sub_status) == (403, ["E005001"])
    zato.client.post("/zato/sso/user/linked", {"ust": zato.super_user_ust, **link})
    again = zato.client.post("/zato/sso/user/linked", {"ust": zato.super_user_ust, **link}, False)
    assert again.http.status_code == 409
    zato.client.get("/zato/sso/user", {"current_app": "CRM"}, auth=(name, secret))
    zato.sso.operator.revoke_api_client(name)
    revoked = zato.client.get("/zato/sso/user", {"current_app": "CRM"}, False, auth=(name, secret))
    assert (revoked.http.status_code, revoked.sub_status) == (403, ["E005001"])
    bad_type = zato.client.post(
        "/zato/sso/user/linked", {"ust": zato.super_user_ust, **link, "auth_type": "zato.jwt"}, False
    )
    assert "auth_type" in bad_type.errors


def test_the_cli_prints_a_generated_secret_once_and_keeps_only_its_hash(zato, monkeypatch):
    app = create_app(app_config(zato.db_url))
    monkeypatch.delenv("SSO_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(args=["sso", "create-api-client", "cli.client"])
    assert result.exit_code == 0, result.output
    secret = result.output.split("shown only now): ")[1].strip()
    with app.extensions["sso_engine"].connect() as conn:
        stored = conn.execute(select(api_clients.c.secret_hash).where(api_clients.c.name == "cli.client")).scalar_one()
    assert secret not in stored and stored.startswith("scrypt$")
    monkeypatch.setenv("SSO_PASSWORD", "a-given-secret-of-length")
    given = app.test_cli_runner().invoke(args=["sso", "create-api-client", "cli.client2"])
    assert given.exit_code == 0 and "a-given-secret" not in given.output
    app.extensions["sso_engine"].dispose()
