"""A user's whole audit history as a download from Manage user; the API reference linked from the footer."""

from __future__ import annotations

import csv
import io
import json

from .conftest import web_login


def test_a_super_user_downloads_a_users_history_as_csv_and_json_lines(app, sso, admin_client, admin_ust, make_user):
    client, _admin = admin_client
    alice = make_user("alice")
    sso.user.update_user_by_id(
        "cid-first", alice["user_id"], {"display_name": "Alice A."}, admin_ust, "CRM", "10.0.0.9"
    )
    sso.user.update_user_by_id("cid-second", alice["user_id"], {"is_locked": True}, admin_ust, "CRM", "10.0.0.9")

    page = client.get(f"/users/{alice['user_id']}").get_data(as_text=True)
    assert f"/users/{alice['user_id']}/history.csv" in page and f"/users/{alice['user_id']}/history.jsonl" in page

    answer = client.get(f"/users/{alice['user_id']}/history.csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="audit-{alice["user_id"]}.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["action"] for row in rows] == ["create", "update", "update"]  # oldest first
    assert {row["target_id"] for row in rows} == {alice["user_id"]}
    assert json.loads(rows[1]["changes"])["display_name"]["new"] == "Alice A."
    assert rows[2]["cid"] == "cid-second"

    lines = client.get(f"/users/{alice['user_id']}/history.jsonl").get_data(as_text=True).splitlines()
    assert [json.loads(line)["cid"] for line in lines][1:] == ["cid-first", "cid-second"]
    assert client.get(f"/users/{alice['user_id']}/history.xml").status_code == 404


def test_a_regular_user_cannot_download_anyones_history_from_manage_user(app, make_user, alice_client):
    client, _alice = alice_client
    bob = make_user("bob")
    answer = client.get(f"/users/{bob['user_id']}/history.csv")
    assert answer.status_code in (403, 303)
    assert "text/csv" not in answer.headers.get("Content-Type", "")


def test_the_footer_links_the_api_reference_which_is_served_under_the_csp(app, make_user):
    make_user("carol")
    client = app.test_client()
    web_login(client, "carol")
    account = client.get("/account", follow_redirects=True).get_data(as_text=True)
    assert 'href="/api/reference"' in account
    reference = client.get("/api/reference")
    assert reference.status_code == 200
    assert "script-src 'self'" in reference.headers["Content-Security-Policy"]
    html = reference.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "<script>" not in html
    assert 'data-openapi-url="/zato/sso/openapi.json"' in html
