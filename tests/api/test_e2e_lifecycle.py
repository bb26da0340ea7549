"""SPEC §8–§9 over real HTTP (gunicorn, SQLite): a Zato-style client (a JSON body on every method, no
Content-Type, the UST in the body) doing Zato's own flows, plus our end-session call and the guard rails."""

from __future__ import annotations

from datetime import datetime

import pytest

from ..conftest import PASSWORD
from .conftest import APP, start_site, unique
from .helpers import ok, refused


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    """One live server for this module, on SQLite."""
    yield from start_site("sqlite", request, tmp_path_factory)


class Zato:
    """A client as Zato's tests write one: every input in a JSON body, `current_app` always sent."""

    def __init__(self, site):
        self.api = site.api

    def __call__(self, method: str, path: str, **body):
        response = self.api.call(method, path, {"current_app": APP, **body})
        assert "Content-Type" not in response.request.headers
        return response


@pytest.fixture
def zato(site):
    return Zato(site)


def created_and_logged_in(site, zato):
    """Create a user as Zato's tests do (a super-user's POST /user, then approve) and log them in."""
    username = unique("zato")
    created = ok(zato("POST", "user", ust=site.admin_ust, username=username, password=PASSWORD))
    assert created["approval_status"] == "before_decision"
    refused(zato("POST", "user/login", username=username, password=PASSWORD), 403, "E005001")
    approved = ok(zato("POST", "user/approve", ust=site.admin_ust, user_id=created["user_id"]))
    assert approved["approval_status"] == "approved"
    ust = ok(zato("POST", "user/login", username=username, password=PASSWORD))["ust"]
    return created, ust


def test_create_approve_login_verify_renew_list_end_and_logout(site, zato):
    user, ust = created_and_logged_in(site, zato)
    assert ok(zato("POST", "user/session", current_ust=site.admin_ust, target_ust=ust))["is_valid"] is True
    assert ok(zato("POST", "user/session", current_ust=ust, target_ust=ust))["is_valid"] is True

    details = ok(zato("GET", "user/session", current_ust=site.admin_ust, target_ust=ust))
    assert details["user_id"] == user["user_id"] and details["remote_addr"] == "127.0.0.1"
    created = datetime.fromisoformat(details["creation_time"])

    renewed = ok(zato("PATCH", "user/session", ust=ust))
    assert datetime.fromisoformat(renewed["expiration_time"]) >= datetime.fromisoformat(details["expiration_time"])

    second = ok(zato("POST", "user/login", username=user["username"], password=PASSWORD))["ust"]
    mine = ok(zato("GET", "user/session/list", ust=ust))["result"]
    assert len(mine) == 2 and [s["is_current"] for s in mine] == [False, True]
    assert datetime.fromisoformat(mine[1]["creation_time"]) == created
    as_zato = ok(zato("GET", "user/session/list", current_ust=site.admin_ust, target_ust=ust))["result"]
    assert [s["session_id"] for s in as_zato] == [s["session_id"] for s in mine]
    by_id = ok(zato("GET", "user/session/list", ust=site.admin_ust, user_id=user["user_id"]))["result"]
    assert [s["session_id"] for s in by_id] == [s["session_id"] for s in mine]
    assert not any(ust in str(s) or second in str(s) for s in mine)

    assert ok(zato("DELETE", "user/session", ust=ust, session_id=mine[0]["session_id"]))["ended"] == 1
    refused(zato("GET", "user", ust=second), 401, "E007001")
    assert ok(zato("POST", "user/session", current_ust=site.admin_ust, target_ust=second))["is_valid"] is False

    ok(zato("POST", "user/logout", ust=ust))
    assert ok(zato("POST", "user/session", current_ust=site.admin_ust, target_ust=ust))["is_valid"] is False
    refused(zato("PATCH", "user/session", ust=ust), 401, "E007001")


def test_signing_out_everywhere_else_keeps_this_session(site, zato):
    user, ust = created_and_logged_in(site, zato)
    others = [ok(zato("POST", "user/login", username=user["username"], password=PASSWORD))["ust"] for _ in range(2)]
    assert ok(zato("DELETE", "user/session", ust=ust, all=True))["ended"] == 2
    for other in others:
        refused(zato("GET", "user", ust=other), 401, "E007001")
    ok(zato("GET", "user", ust=ust))
    assert ok(zato("DELETE", "user/session", ust=site.admin_ust, user_id=user["user_id"], all=True))["ended"] == 1
    refused(zato("GET", "user", ust=ust), 401, "E007001")


def test_locking_makes_the_ust_fail_with_E005002_and_ends_it_for_good(site, zato):
    user, ust = created_and_logged_in(site, zato)
    locked = ok(zato("POST", "user/lock", ust=site.admin_ust, user_id=user["user_id"]))
    assert locked["is_locked"] is True and locked["locked_by"] == site.admin["user_id"]
    refused(zato("GET", "user", ust=ust), 403, "E005002")
    refused(zato("PATCH", "user/session", ust=ust), 403, "E005002")
    assert ok(zato("GET", "user/session/list", ust=site.admin_ust, user_id=user["user_id"]))["result"] == []
    refused(zato("POST", "user/login", username=user["username"], password=PASSWORD), 403, "E005001")
    assert ok(zato("DELETE", "user/lock", ust=site.admin_ust, user_id=user["user_id"]))["is_locked"] is False
    refused(zato("GET", "user", ust=ust), 401, "E007001")
    again = ok(zato("POST", "user/login", username=user["username"], password=PASSWORD))["ust"]
    ok(zato("GET", "user", ust=again))


def test_reject_then_delete_and_the_user_is_gone(site, zato):
    user, ust = created_and_logged_in(site, zato)
    assert ok(zato("POST", "user/reject", ust=site.admin_ust, user_id=user["user_id"]))["approval_status"] == "rejected"
    refused(zato("GET", "user", ust=ust), 401, "E007001")
    body = ok(zato("DELETE", "user", ust=site.admin_ust, user_id=user["user_id"]))
    assert set(body) == {"cid", "status"}
    assert ok(zato("GET", "user/search", ust=site.admin_ust, user_id=user["user_id"]))["total"] == 0
    refused(zato("GET", "user", ust=site.admin_ust, user_id=user["user_id"]), 404, "E001100")
    refused(zato("DELETE", "user", ust=site.admin_ust, user_id=user["user_id"]), 404, "E001100")
    for path in ("user/approve", "user/reject", "user/lock"):
        refused(zato("POST", path, ust=site.admin_ust, user_id=user["user_id"]), 404, "E001100")
    refused(zato("DELETE", "user/lock", ust=site.admin_ust, user_id=user["user_id"]), 404, "E001100")
    history = site.sso.user.history("test", user["user_id"], site.admin_ust, APP, "127.0.0.1")
    assert history[0]["action"] == "delete" and history[0]["changes"]["username"]["old"] == user["username"]


def test_a_regular_user_is_denied_every_lifecycle_call_and_other_peoples_sessions(site, zato):
    victim, victim_ust = site.new_user("victim")
    _, ust = site.new_user("regular")
    for method, path in (
        ("POST", "user/approve"),
        ("POST", "user/reject"),
        ("POST", "user/lock"),
        ("DELETE", "user/lock"),
        ("DELETE", "user"),
    ):
        refused(zato(method, path, ust=ust, user_id=victim["user_id"]), 403, "E005001")
    refused(zato("POST", "user/session", current_ust=ust, target_ust=victim_ust), 403, "E005001")
    refused(zato("GET", "user/session", current_ust=ust, target_ust=victim_ust), 403, "E005001")
    refused(zato("GET", "user/session/list", ust=ust, user_id=victim["user_id"]), 403, "E005001")
    refused(zato("GET", "user/session/list", current_ust=ust, target_ust=victim_ust), 403, "E005001")
    refused(zato("DELETE", "user/session", ust=ust, user_id=victim["user_id"], all=True), 403, "E005001")
    [session] = ok(zato("GET", "user/session/list", ust=victim_ust))["result"]
    refused(zato("DELETE", "user/session", ust=ust, session_id=session["session_id"]), 404, "E007001")
    ok(zato("GET", "user", ust=victim_ust))


def test_the_guard_rails_hold_over_http_whichever_call_is_used(site, zato):
    admin, ust = site.new_user("boss", super_user=True)
    for method, path in (("POST", "user/lock"), ("POST", "user/reject"), ("DELETE", "user")):
        refused(zato(method, path, ust=ust, user_id=admin["user_id"]), 403, "E008001")
    for data in (
        {"is_locked": True},
        {"approval_status": "rejected"},
        {"sign_up_status": "before_confirmation"},
        {"password_expiry": "2000-01-01T00:00:00"},
    ):
        body = refused(zato("PATCH", "user", ust=ust, **data), 403, "E008001")
        assert set(body["errors"]) == set(data)
        refused(zato("PATCH", "user", ust=ust, user_id=admin["user_id"], **data), 403, "E008001")
    assert ok(zato("GET", "user", ust=ust))["is_locked"] is False


def test_bad_inputs_name_the_field(site, zato):
    _, ust = site.new_user("inputs")
    body = refused(zato("POST", "user/lock", ust=site.admin_ust), 400, "E008002")
    assert body["errors"] == {"user_id": "is required"}
    refused(zato("POST", "user/approve", ust=site.admin_ust, user_id=None), 400, "E008002")
    refused(zato("POST", "user/approve", ust=site.admin_ust, user_id=5), 400, "E008002")
    body = refused(zato("POST", "user/lock", ust=site.admin_ust, user_id="zusrx", is_locked=True), 422, "E008002")
    assert "is_locked" in body["errors"]
    assert "target_ust" in refused(zato("POST", "user/session", current_ust=ust), 400, "E008002")["errors"]
    assert (
        "target_ust" in refused(zato("POST", "user/session", current_ust=ust, target_ust=1), 400, "E008002")["errors"]
    )
    refused(zato("GET", "user/session", current_ust=ust, target_ust="junk"), 404, "E007001")
    assert "session_id" in refused(zato("DELETE", "user/session", ust=ust), 400, "E008002")["errors"]
    assert "all" in refused(zato("DELETE", "user/session", ust=ust, all="yes"), 422, "E008002")["errors"]
    refused(zato("DELETE", "user/session", ust=ust, session_id="zsesx", all=True), 422, "E008002")
    refused(zato("DELETE", "user/session", ust=ust, session_id=7), 422, "E008002")
    refused(zato("GET", "user/session/list", ust=ust, current_ust=site.admin_ust), 422, "E008002")
    response = site.api.call(
        "GET", "user/session", params={"current_app": APP, "target_ust": ust}, body={"current_ust": ust}
    )
    assert "target_ust" in refused(response, 400, "E008002")["errors"]
    refused(site.api.call("PUT", "user/session", {"ust": ust, "current_app": APP}), 405)
