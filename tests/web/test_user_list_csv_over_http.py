"""The user list's CSV download over real HTTP (gunicorn, SQLite): the list's link carries the current filter,
the file is streamed (chunked) with every match and the profile fields the administrator may view, never a
sensitive one; a user without `users.view` gets the 403 page, a bad filter the list saying what is wrong."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest

from webapp import create_app
from webapp.sso import Call

from ..conftest import FERNET_KEY, PASSWORD, fresh_database
from ..conftest import app_config as config_for
from ..server import LiveServer, console_session, server_env


@pytest.fixture(scope="module")
def live(request, tmp_path_factory):
    url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(config_for(url))
    sso = app.extensions["sso"]
    admin = sso.operator.create_local("admin", PASSWORD, super_user=True)
    ust = sso.user.login("cid", "admin", PASSWORD, "CRM", "127.0.0.1").ust
    service = sso.serve(Call("cid", ust, "CRM", "127.0.0.1"))
    service.define_profile_field(
        {"name": "department", "label": "Department", "type": "text", "searchable": True, "list_column": True}
    )
    service.define_profile_field({"name": "salary", "label": "Salary", "type": "integer", "sensitive": True})
    for number in range(130):  # more than one batch of the export
        user = sso.operator.create_local(f"u{number:03d}", None, super_user=False)
        service.update_user(user["user_id"], {"department": "Sales" if number % 2 else "Legal", "salary": 1234567})
    sso.operator.create_local("plain", PASSWORD, super_user=False)
    with LiveServer(server_env(url, FERNET_KEY)) as server:
        yield server.url, admin
    app.extensions["sso_engine"].dispose()
    assert '" 500 ' not in server.log.read_text(), f"a 500 in {server.log}"


def test_the_list_links_its_csv_with_the_current_filter_and_the_file_streams_every_match(live):
    base, _admin = live
    http = console_session(base, "admin", PASSWORD)
    page = http.get(f"{base}/users", params={"pf_department": "sales", "locked": "no", "page": "2"}, timeout=30).text
    found = re.search(r'href="([^"]+)" id="download-csv"', page)
    assert found, page
    link = unescape(found.group(1))
    assert link.startswith("/users.csv?") and "pf_department=sales" in link and "locked=no" in link
    assert "page=" not in link
    answer = http.get(f"{base}{link}", timeout=60)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="users.csv"'
    assert answer.headers.get("Transfer-Encoding") == "chunked" and answer.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["username"] for row in rows] == [f"u{n:03d}" for n in range(1, 130, 2)]
    assert {row["department"] for row in rows} == {"Sales"} and "salary" not in rows[0]
    assert "1234567" not in answer.text


def test_a_bad_filter_shows_the_list_with_the_error_and_no_file(live):
    base, _admin = live
    http = console_session(base, "admin", PASSWORD)
    answer = http.get(f"{base}/users.csv", params={"approval": "maybe"}, timeout=30)
    assert answer.status_code == 422 and answer.headers["Content-Type"].startswith("text/html")
    assert 'id="search-errors"' in answer.text


def test_without_users_view_the_download_is_the_403_page(live):
    base, _admin = live
    http = console_session(base, "plain", PASSWORD)
    answer = http.get(f"{base}/users.csv", allow_redirects=False, timeout=30)
    assert answer.status_code == 403 and "text/csv" not in answer.headers["Content-Type"]
    assert "u001" not in answer.text  # nothing of the list leaks
