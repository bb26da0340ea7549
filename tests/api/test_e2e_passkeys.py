"""SPEC §18 over real HTTP (gunicorn, SQLite): an application with its own pages runs the passkey ceremonies
through the JSON API. The client below is written here: it calls the options endpoints, lets a software
authenticator (a real P-256 key) answer as the browser would, and sends the answers back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from webapp.db import writing
from webapp.sso import Code
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.tables import sessions

from ..conftest import PASSWORD
from ..passkey_authenticator import SoftAuthenticator
from .conftest import APP
from .helpers import ok, refused

ORIGIN = "http://localhost:8000"  # the server's SSO_PUBLIC_URL (its default)


class PasskeyClient:
    """What an application's own pages do with the API, step by step."""

    def __init__(self, api):
        self.api = api

    def add(self, ust: str, authenticator: SoftAuthenticator, name: str, **options_body) -> dict:
        begun = ok(
            self.api.call("POST", "user/passkey/register/options", {"current_app": APP, **options_body}, ust=ust)
        )
        answer = authenticator.create(begun["options"])
        body = {"current_app": APP, "challenge_id": begun["challenge_id"], "credential": answer, "name": name}
        return ok(self.api.call("POST", "user/passkey/register/verify", body, ust=ust))

    def begin_sign_in(self, **body) -> dict:
        return ok(self.api.call("POST", "user/passkey/login/options", {"current_app": APP, **body}))

    def sign_in(self, authenticator: SoftAuthenticator):
        begun = self.begin_sign_in()
        body = {
            "current_app": APP,
            "challenge_id": begun["challenge_id"],
            "credential": authenticator.get(begun["options"]),
        }
        return self.api.call("POST", "user/passkey/login/verify", body)


@pytest.fixture
def client(site):
    return PasskeyClient(site.api)


def test_an_app_adds_a_passkey_signs_in_with_it_lists_and_removes_it(site, client):
    user, ust = site.new_user("pk")
    key = SoftAuthenticator(ORIGIN)
    added = client.add(ust, key, "Security key")
    assert (added["name"], added["user_id"], added["is_synced"], added["last_use_time"]) == (
        "Security key",
        user["user_id"],
        True,
        None,
    )
    signed_in = ok(client.sign_in(key))
    assert set(signed_in) == {"cid", "status", "ust", "expiration_time"}
    me = ok(site.api.call("GET", "user", {"current_app": APP}, ust=signed_in["ust"]))
    assert me["username"] == user["username"]
    [listed] = ok(site.api.call("GET", "user/passkey", {"current_app": APP}, ust=ust))["result"]
    assert listed["passkey_id"] == added["passkey_id"] and listed["last_use_time"] is not None
    assert "public_key" not in listed and "credential_id" not in listed
    seen_by_admin = ok(
        site.api.call("GET", "user/passkey", {"current_app": APP, "user_id": user["user_id"]}, ust=site.admin_ust)
    )
    assert [p["name"] for p in seen_by_admin["result"]] == ["Security key"]
    ok(site.api.call("DELETE", "user/passkey", {"current_app": APP, "passkey_id": added["passkey_id"]}, ust=ust))
    assert ok(site.api.call("GET", "user/passkey", {"current_app": APP}, ust=ust))["result"] == []
    refused(client.sign_in(key), 403, Code.auth_invalid)


def test_a_passkey_replaces_the_totp_code_at_login(site, client):
    user, ust = site.new_user("pk2fa")
    key = SoftAuthenticator(ORIGIN)
    client.add(ust, key, "Phone")
    site.set(user["user_id"], totp_key="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", is_totp_enabled=True)
    login = {"current_app": APP, "username": user["username"], "password": PASSWORD}
    refused(site.api.call("POST", "user/login", login), 403, Code.totp_missing)
    begun = client.begin_sign_in(second_factor=True)
    answer = {"challenge_id": begun["challenge_id"], "credential": key.get(begun["options"])}
    ok(site.api.call("POST", "user/login", {**login, "passkey": answer}))


def test_bad_answers_get_clear_refusals_and_no_server_error(site, client):
    _user, ust = site.new_user("pkbad")
    begun = ok(site.api.call("POST", "user/passkey/register/options", {"current_app": APP}, ust=ust))
    body = {"current_app": APP, "challenge_id": begun["challenge_id"], "name": "x"}
    too_big = refused(
        site.api.call("POST", "user/passkey/register/verify", {**body, "credential": "x" * 40000}, ust=ust),
        422,
        Code.invalid_input,
    )
    assert too_big["errors"] == {"credential": "is larger than 32 KiB"}
    missing = refused(
        site.api.call("POST", "user/passkey/register/verify", {"current_app": APP}, ust=ust), 400, Code.invalid_input
    )
    assert set(missing["errors"]) == {"challenge_id", "credential", "name"}
    wrong_site = SoftAuthenticator("https://evil.example")
    begun = ok(site.api.call("POST", "user/passkey/register/options", {"current_app": APP}, ust=ust))
    answer = wrong_site.create(begun["options"])
    body = {"current_app": APP, "challenge_id": begun["challenge_id"], "name": "x", "credential": answer}
    assert (
        "origin"
        in refused(site.api.call("POST", "user/passkey/register/verify", body, ust=ust), 422, Code.invalid_input)[
            "errors"
        ]["credential"]
    )
    replayed = refused(site.api.call("POST", "user/passkey/register/verify", body, ust=ust), 422, Code.invalid_input)
    assert replayed["errors"] == {"challenge_id": "has expired or was used already: start again"}
    unknown = refused(client.sign_in(SoftAuthenticator(ORIGIN)), 403, Code.auth_invalid)
    assert unknown["errors"] == {}
    odd = refused(
        site.api.call("POST", "user/passkey/login/options", {"current_app": APP, "second_factor": "yes"}),
        422,
        Code.invalid_input,
    )
    assert odd["errors"] == {"second_factor": "must be true or false"}
    assert ok(site.api.call("GET", "user/passkey", {"current_app": APP}, ust=ust))["result"] == []


def test_the_ceremonies_are_in_the_openapi_document(site):
    paths = site.api.http.get(site.api.base_url + "/zato/sso/openapi.json", timeout=30).json()["paths"]
    assert set(paths["/zato/sso/user/passkey"]) >= {"get", "delete"}
    for path in ("register/options", "register/verify", "login/options", "login/verify", "reauth/options"):
        assert "post" in paths[f"/zato/sso/user/passkey/{path}"]


def test_after_five_minutes_ones_own_passkey_or_the_password_confirms_it(site, client):
    user, ust = site.new_user("pkre")
    key = SoftAuthenticator(ORIGIN)
    added = client.add(ust, key, "Laptop")
    with writing(site.sso.ctx.engine) as conn:  # the sign-in made 6 minutes old (the server keeps real time)
        conn.execute(
            update(sessions)
            .where(sessions.c.user_id == user["user_id"])
            .values(creation_time=utcnow() - timedelta(minutes=6))
        )
    body = {"current_app": APP, "passkey_id": added["passkey_id"]}
    asked = refused(site.api.call("DELETE", "user/passkey", body, ust=ust), 403, Code.auth_invalid)
    assert "sign-in within the last 5 minutes" in asked["errors"]["password"]
    begun = ok(site.api.call("POST", "user/passkey/reauth/options", {"current_app": APP}, ust=ust))
    assert [c["id"] for c in begun["options"]["allowCredentials"]] == [key.id]
    answer = {"challenge_id": begun["challenge_id"], "credential": key.get(begun["options"])}
    ok(site.api.call("DELETE", "user/passkey", {**body, "passkey": answer}, ust=ust))
    assert ok(site.api.call("GET", "user/passkey", {"current_app": APP}, ust=ust))["result"] == []
    begun = ok(
        site.api.call("POST", "user/passkey/register/options", {"current_app": APP, "password": PASSWORD}, ust=ust)
    )
    assert begun["options"]["excludeCredentials"] == []


def test_downloading_my_data_after_five_minutes_is_confirmed_with_a_passkey_when_no_password_is_in_use(site, client):
    """GET user/export (SPEC §20) takes `passkey` in place of `password`: an account whose password is not in use
    (none stored) downloads its file with its passkey; the answer is single use; a wrong one is refused."""
    from webapp.sso.kernel.tables import users

    user, ust = site.new_user("pkexp")
    key = SoftAuthenticator(ORIGIN)
    client.add(ust, key, "Laptop")
    with writing(site.sso.ctx.engine) as conn:  # no password in use; the sign-in made 6 minutes old
        conn.execute(update(users).where(users.c.user_id == user["user_id"]).values(password_hash=None))
        conn.execute(
            update(sessions)
            .where(sessions.c.user_id == user["user_id"])
            .values(creation_time=utcnow() - timedelta(minutes=6))
        )
    asked = refused(site.api.call("GET", "user/export", {"current_app": APP}, ust=ust), 403, Code.auth_invalid)
    assert "confirm with a passkey" in asked["errors"]["password"]
    refused(
        site.api.call("GET", "user/export", {"current_app": APP, "password": PASSWORD}, ust=ust), 403, Code.auth_invalid
    )

    begun = ok(site.api.call("POST", "user/passkey/reauth/options", {"current_app": APP}, ust=ust))
    answer = {"challenge_id": begun["challenge_id"], "credential": key.get(begun["options"])}
    got = site.api.call("GET", "user/export", {"current_app": APP, "passkey": answer}, ust=ust)
    assert got.status_code == 200, got.text
    document = got.json()
    assert (document["format"], document["user"]["user_id"]) == ("sso-user-export", user["user_id"])
    assert [p["name"] for p in document["passkeys"]] == ["Laptop"]
    assert document["passkeys"][0]["last_use_time"] is not None  # the confirmation used it

    again = site.api.call("GET", "user/export", {"current_app": APP, "passkey": answer}, ust=ust)
    assert again.status_code == 422 and "challenge_id" in again.json()["errors"]  # single use
    other = SoftAuthenticator(ORIGIN)  # a passkey this account does not hold
    begun = ok(site.api.call("POST", "user/passkey/reauth/options", {"current_app": APP}, ust=ust))
    forged = {"challenge_id": begun["challenge_id"], "credential": other.get(begun["options"])}
    wrong = site.api.call("GET", "user/export", {"current_app": APP, "passkey": forged}, ust=ust)
    assert wrong.status_code == 403 and "passkey" in wrong.json()["errors"]
    bad = site.api.call("GET", "user/export", {"current_app": APP, "passkey": "not an object"}, ust=ust)
    assert bad.status_code in (400, 422) and "passkey" in bad.json()["errors"]
