"""SPEC §19 over real HTTP, on SQLite and PostgreSQL: required actions (the login's W012001 warning, E012001 on
every other call, each action cleared by doing it) and the terms (publish, everyone asked, accept)."""

from __future__ import annotations

import json
import re

import pyotp
import pytest
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import Call
from webapp.sso.kernel.tables import outbox

from ..conftest import PASSWORD
from .conftest import APP, start_site
from .helpers import ok, refused

NEW_PASSWORD = "Another-Horse-77"
KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    """One live server per database for this module."""
    yield from start_site(request.param, request, tmp_path_factory)


def log_in(site, username: str, **extra):
    return site.api.call(
        "POST", "user/login", {"username": username, "password": PASSWORD, "current_app": APP, **extra}
    )


def waiting(response, *actions: str) -> dict:
    """A call refused until the required actions are done: 403 E012001 with the list."""
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["status"] == "error" and body["sub_status"] == ["E012001"], body
    assert body["required_actions"] == list(actions), body
    assert "required_actions" in body["errors"], body
    return body


def set_actions(site, user_id: str, actions: list[str]) -> dict:
    return ok(
        site.api.call(
            "PATCH",
            "user",
            {"ust": site.admin_ust, "current_app": APP, "user_id": user_id, "required_actions": actions},
        )
    )


def me(site, ust: str):
    return site.api.call("GET", "user", {"ust": ust, "current_app": APP})


def signed_in_with(site, user: dict, *actions: str) -> str:
    """Log in: a warning (W012001) listing `actions`, and a UST."""
    body = ok(log_in(site, user["username"]), status="warning")
    assert body["sub_status"] == ["W012001"] and body["required_actions"] == list(actions), body
    return body["ust"]


def test_change_password_keeps_zatos_e003007_and_is_cleared_by_a_new_password(site):
    user, ust = site.new_user("cp")
    admin_view = set_actions(site, user["user_id"], ["change_password"])
    assert admin_view["password_must_change"] is True and admin_view["required_actions"] == ["change_password"]
    # Zato's must-change flag: a session open before it was set keeps working (as with Zato) and says it
    assert ok(me(site, ust))["required_actions"] == ["change_password"]
    refused(log_in(site, user["username"]), 403, "E003007")  # what a Zato client knows
    changed = ok(
        site.api.call(
            "PATCH",
            "user/password",
            {"ust": ust, "current_app": APP, "old_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
    )
    assert changed["status"] == "ok"
    assert site.get(user["user_id"])["required_actions"] == []
    fresh = ok(
        site.api.call(
            "POST", "user/login", {"username": user["username"], "password": NEW_PASSWORD, "current_app": APP}
        )
    )
    assert "required_actions" not in fresh
    assert ok(me(site, fresh["ust"]))["required_actions"] == []


def test_set_up_two_factor_waits_until_totp_is_on(site):
    user, _ = site.new_user("tf", login=False)
    set_actions(site, user["user_id"], ["set_up_two_factor"])
    ust = signed_in_with(site, user, "set_up_two_factor")
    waiting(me(site, ust), "set_up_two_factor")
    waiting(site.api.call("GET", "user/session/list", {"ust": ust, "current_app": APP}), "set_up_two_factor")
    ok(site.api.call("PATCH", "user/totp", {"ust": ust, "current_app": APP, "totp_key": KEY, "totp_label": "phone"}))
    waiting(me(site, ust), "set_up_two_factor")  # a key alone is not two-factor sign-in
    on = ok(site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, "is_totp_enabled": True}))
    assert on["required_actions"] == [] and on["is_totp_enabled"] is True
    assert ok(me(site, ust))["required_actions"] == []
    history = site.sso.user.get_user_by_id("t", user["user_id"], site.admin_ust, APP, "127.0.0.1")
    assert history["required_actions"] == []
    code = pyotp.TOTP(KEY).now()
    assert ok(log_in(site, user["username"], totp_code=code))["status"] == "ok"


def test_complete_profile_is_cleared_when_every_required_field_is_filled(site):
    user, _ = site.new_user("cpf", login=False)
    name = f"badge_{site.db_kind[:2]}"
    admin = site.sso.serve(Call("t", site.admin_ust, APP, "127.0.0.1", "python", None))
    admin.define_profile_field({"name": name, "label": "Badge", "type": "integer", "required": True})
    try:
        set_actions(site, user["user_id"], ["complete_profile", "accept_terms"])
        ust = signed_in_with(site, user, "complete_profile", "accept_terms")
        waiting(me(site, ust), "complete_profile", "accept_terms")
        filled = ok(site.api.call("PATCH", "user", {"ust": ust, "current_app": APP, name: 7}))
        assert filled["required_actions"] == ["accept_terms"]
        waiting(me(site, ust), "accept_terms")
    finally:
        admin.retire_profile_field(name)


def emailed_token(site, address: str) -> str:
    """The token of the newest confirmation link queued for `address` (the outbox keeps messages sealed)."""
    with reading(site.sso.ctx.engine) as conn:
        body = conn.execute(
            select(outbox.c.body).where(outbox.c.recipient == address).order_by(outbox.c.id.desc()).limit(1)
        ).scalar_one()
    found = re.search(r"/account/verify-email/([A-Za-z0-9_-]+)", json.loads(site.sso.ctx.codec.unseal(body))["text"])
    assert found is not None, "the message holds the link"
    return found.group(1)


def test_verify_email_is_cleared_by_the_link_sent_to_the_current_address(site):
    user, _ = site.new_user("ve", login=False)
    address = f"{user['username']}@example.com"
    site.set(user["user_id"], email=address)
    set_actions(site, user["user_id"], ["verify_email"])
    ust = signed_in_with(site, user, "verify_email")
    waiting(me(site, ust), "verify_email")
    sent = ok(site.api.call("POST", "user/email/verify", {"ust": ust, "current_app": APP}))
    assert sent["email"] == address
    body = refused(site.api.call("POST", "user/email/verify", {"ust": ust, "current_app": APP}), 422, "E008002")
    assert "email" in body["errors"]  # once a minute
    token = emailed_token(site, address)
    bad = refused(site.api.call("PATCH", "user/email/verify", {"current_app": APP, "token": "x" * 43}), 422, "E008002")
    assert "token" in bad["errors"]
    ok(site.api.call("PATCH", "user/email/verify", {"current_app": APP, "token": token}))
    assert ok(me(site, ust))["required_actions"] == []
    refused(site.api.call("PATCH", "user/email/verify", {"current_app": APP, "token": token}), 422, "E008002")


def test_bad_input_names_the_field(site):
    user, _ = site.new_user("bad", login=False)
    base = {"ust": site.admin_ust, "current_app": APP}
    body = refused(
        site.api.call("PATCH", "user", {**base, "user_id": user["user_id"], "required_actions": ["nope"]}),
        422,
        "E008002",
    )
    assert "nope" in body["errors"]["required_actions"]
    response = site.api.call("PATCH", "user", {**base, "user_id": user["user_id"], "required_actions": "accept_terms"})
    assert response.status_code in (400, 422) and "required_actions" in response.json()["errors"]
    body = refused(
        site.api.call(
            "PATCH",
            "user",
            {
                **base,
                "user_id": user["user_id"],
                "required_actions": ["change_password"],
                "password_must_change": False,
            },
        ),
        422,
        "E008002",
    )
    assert "required_actions" in body["errors"]
    refused(
        site.api.call("PATCH", "user", {**base, "user_id": "zusrnobodyatall", "required_actions": []}), 404, "E001100"
    )
    for text in ("", "   \n"):
        body = refused(site.api.call("POST", "terms", {**base, "text": text}), 422, "E008002")
        assert "text" in body["errors"]
    _, regular = site.new_user("reg")
    refused(site.api.call("POST", "terms", {"ust": regular, "current_app": APP, "text": "x"}), 403, "E005001")
    body = refused(
        site.api.call("PATCH", "user", {"ust": regular, "current_app": APP, "required_actions": []}), 403, "E008002"
    )
    assert "required_actions" in body["errors"]


def test_terms_publish_asks_everyone_and_an_acceptance_is_recorded(site):
    user, ust = site.new_user("terms")
    published = ok(
        site.api.call(
            "POST",
            "terms",
            {
                "ust": site.admin_ust,
                "current_app": APP,
                "text": "# Terms\n\nBe **kind**. <script>alert(1)</script>",
                "require_acceptance": True,
            },
        )
    )
    assert published["users_asked"] >= 2 and "<script>" not in published["html"]
    assert "<strong>kind</strong>" in published["html"]
    waiting(me(site, ust), "accept_terms")
    current = ok(site.api.call("GET", "terms", {"ust": ust, "current_app": APP}))
    assert current["version"] == published["version"]
    body = refused(
        site.api.call("POST", "terms/accept", {"ust": ust, "current_app": APP, "version": published["version"] + 5}),
        422,
        "E008002",
    )
    assert "version" in body["errors"]
    accepted = ok(
        site.api.call("POST", "terms/accept", {"ust": ust, "current_app": APP, "version": published["version"]})
    )
    assert accepted["accepted"] is True
    assert ok(me(site, ust))["required_actions"] == []
    again = ok(site.api.call("POST", "terms/accept", {"ust": ust, "current_app": APP, "version": published["version"]}))
    assert again["accepted"] is False
    waiting(site.api.call("GET", "user/terms", {"ust": site.admin_ust, "current_app": APP}), "accept_terms")
    admin = ok(log_in(site, site.admin["username"]), status="warning")  # the administrator was asked too
    assert admin["required_actions"] == ["accept_terms"]
    ok(
        site.api.call(
            "POST", "terms/accept", {"ust": site.admin_ust, "current_app": APP, "version": published["version"]}
        )
    )
    seen = ok(
        site.api.call("GET", "user/terms", {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"]})
    )
    assert [row["version"] for row in seen["result"]] == [published["version"]]
    assert seen["result"][0]["remote_addr"] == "127.0.0.1"
    newcomer, _ = site.new_user("late", login=False)  # created after: asked too (they never accepted it)
    assert site.get(newcomer["user_id"])["required_actions"] == ["accept_terms"]
