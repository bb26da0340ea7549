"""SPEC §20 over real HTTP (gunicorn, SQLite): restore a value, download one's data, delete one's account."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.db import reading
from webapp.sso.kernel.tables import audit

from ..conftest import PASSWORD
from .conftest import APP, start_site
from .helpers import ok, refused


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    """One live server for this module, on SQLite."""
    yield from start_site("sqlite", request, tmp_path_factory)


def last_update(site, user_id: str) -> dict:
    query = select(audit).where(audit.c.target_id == user_id, audit.c.action == "update").order_by(audit.c.id.desc())
    with reading(site.sso.ctx.engine) as conn:
        return dict(conn.execute(query.limit(1)).mappings().one())


def test_restore_a_value_with_and_without_a_conflict(site):
    user, ust = site.new_user("restore")
    ok(site.api.call("PATCH", "user", {"current_app": APP, "display_name": "Before"}, ust=ust))
    ok(site.api.call("PATCH", "user", {"current_app": APP, "display_name": "Oops"}, ust=ust))
    oops = last_update(site, user["user_id"])

    restored = ok(
        site.api.call(
            "POST", "user/restore", {"current_app": APP, "record_id": oops["id"], "attribute": "display_name"}, ust=ust
        )
    )
    assert restored["display_name"] == "Before"
    assert last_update(site, user["user_id"])["restored_from"] == oops["id"]

    # The same record again: the field has changed since (to "Before"), so it is a conflict naming the field.
    answer = refused(
        site.api.call(
            "POST", "user/restore", {"current_app": APP, "record_id": oops["id"], "attribute": "display_name"}, ust=ust
        ),
        412,
        "E011001",
    )
    assert "display_name" in answer["errors"]
    forced = ok(
        site.api.call(
            "POST",
            "user/restore",
            {"current_app": APP, "record_id": oops["id"], "attribute": "display_name", "force": True},
            ust=ust,
        )
    )
    assert forced["display_name"] == "Before"  # the old value of that record, whatever was stored since


def test_restore_refuses_bad_input_with_the_field_named(site):
    user, ust = site.new_user("restore")
    other, other_ust = site.new_user("restore")
    ok(site.api.call("PATCH", "user", {"current_app": APP, "last_name": "X"}, ust=other_ust))
    theirs = last_update(site, other["user_id"])

    answer = refused(
        site.api.call(
            "POST", "user/restore", {"current_app": APP, "record_id": theirs["id"], "attribute": "last_name"}, ust=ust
        ),
        404,
        "E008002",
    )
    assert list(answer["errors"]) == ["record_id"]
    answer = refused(
        site.api.call("POST", "user/restore", {"current_app": APP, "record_id": "x", "attribute": 5}, ust=ust),
        422,
        "E008002",
    )
    assert {"record_id", "attribute"} <= set(answer["errors"])
    refused(
        site.api.call("POST", "user/restore", {"current_app": APP, "attribute": "last_name"}, ust=ust), 400, "E008002"
    )
    refused(
        site.api.call(
            "POST", "user/restore", {"current_app": APP, "record_id": 1, "attribute": "x", "extra": 1}, ust=ust
        ),
        422,
        "E008002",
    )
    assert user["user_id"] != other["user_id"]


def test_export_over_http_is_a_json_file_and_never_anothers(site):
    user, ust = site.new_user("export")
    other, _ = site.new_user("export")
    answer = site.api.call("GET", "user/export", {"current_app": APP}, ust=ust)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    document = answer.json()
    assert (document["format"], document["user"]["user_id"]) == ("sso-user-export", user["user_id"])
    assert document["audit"][-1]["action"] == "export"

    refused(
        site.api.call("GET", "user/export", {"current_app": APP, "user_id": other["user_id"]}, ust=ust), 403, "E005001"
    )
    refused(site.api.call("GET", "user/export", ust=ust, params={"current_app": APP, "password": "x"}), 400, "E008002")
    by_admin = site.api.call(
        "GET", "user/export", {"current_app": APP, "user_id": other["user_id"]}, ust=site.admin_ust
    )
    assert by_admin.json()["produced_by"] == "an administrator"


def test_schedule_and_cancel_a_deletion_over_http(site):
    user, ust = site.new_user("leaving")
    shown = ok(site.api.call("GET", "user", {"current_app": APP, "user_id": user["user_id"]}, ust=site.admin_ust))
    assert shown["deletion_time"] is None

    answer = refused(
        site.api.call("POST", "user/deletion", {"current_app": APP, "password": "wrong"}, ust=ust), 403, "E005001"
    )
    assert list(answer["errors"]) == ["password"]
    refused(site.api.call("POST", "user/deletion", {"current_app": APP}, ust=ust), 400, "E008002")
    due = ok(site.api.call("POST", "user/deletion", {"current_app": APP, "password": PASSWORD}, ust=ust))[
        "deletion_time"
    ]
    refused(site.api.call("GET", "user", {"current_app": APP}, ust=ust), 403, "E005002")  # locked, sessions ended
    shown = ok(site.api.call("GET", "user", {"current_app": APP, "user_id": user["user_id"]}, ust=site.admin_ust))
    assert (shown["deletion_time"], shown["is_locked"]) == (due, True)

    # The owner's cancel is the emailed link's token with the password: a forged one names the token.
    answer = refused(
        site.api.call("DELETE", "user/deletion", {"current_app": APP, "token": "A" * 43, "password": PASSWORD}),
        404,
        "E008002",
    )
    assert list(answer["errors"]) == ["token"]
    other, other_ust = site.new_user("other")
    refused(
        site.api.call("DELETE", "user/deletion", {"current_app": APP, "user_id": user["user_id"]}, ust=other_ust),
        403,
        "E005001",
    )
    ok(site.api.call("DELETE", "user/deletion", {"current_app": APP, "user_id": user["user_id"]}, ust=site.admin_ust))
    shown = ok(site.api.call("GET", "user", {"current_app": APP, "user_id": user["user_id"]}, ust=site.admin_ust))
    assert (shown["deletion_time"], shown["is_locked"]) == (None, False)
    assert other["user_id"] != user["user_id"]


def test_a_profile_field_over_json_restored_and_in_the_downloaded_file(site):
    """A profile field (SPEC §16) is an attribute in every face: `user/restore` puts its old value back (a
    sensitive one is refused, naming `attribute`), and `user/export` carries it in `profile_fields`."""
    from webapp.sso import Call

    admin = site.sso.serve(Call("test", site.admin_ust, APP, "127.0.0.1"))
    admin.define_profile_field({"name": "floor", "label": "Floor", "type": "integer"})
    admin.define_profile_field({"name": "door_pin", "label": "Door PIN", "type": "integer", "sensitive": True})
    user, ust = site.new_user("fieldrestore")
    ok(site.api.call("PATCH", "user", {"current_app": APP, "floor": 3, "door_pin": 1234}, ust=ust))
    ok(site.api.call("PATCH", "user", {"current_app": APP, "floor": 30, "door_pin": 4321}, ust=ust))
    oops = last_update(site, user["user_id"])

    body = {"current_app": APP, "record_id": oops["id"], "attribute": "floor"}
    assert ok(site.api.call("POST", "user/restore", body, ust=ust))["floor"] == 3
    assert last_update(site, user["user_id"])["restored_from"] == oops["id"]
    answer = refused(site.api.call("POST", "user/restore", {**body, "attribute": "door_pin"}, ust=ust), 422, "E008002")
    assert answer["errors"] == {"attribute": "cannot be restored (a secret or sensitive field)"}

    got = site.api.call("GET", "user/export", {"current_app": APP}, ust=ust)
    assert got.status_code == 200
    fields = {f["name"]: (f["value"], f["sensitive"]) for f in got.json()["profile_fields"]}
    assert fields == {"floor": (3, False), "door_pin": (4321, True)}
