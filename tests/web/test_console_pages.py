"""The console's history pages and list query string (issue 11): any input reads as a page, never a 5xx."""

from __future__ import annotations

import pytest

from .conftest import BOTH_DATABASES


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?before=abc",
        "?after=99999999999999999999999",
        "?before=5&after=3",
        "?kind=%3Cscript%3E",
        "?kind=login&changes=1",
        "?changes=yes&before=-1",
    ],
)
@BOTH_DATABASES  # numbers no database column holds
def test_history_pages_read_any_query(admin_client, alice_client, query):
    client, admin = admin_client
    assert client.get(f"/users/{admin['user_id']}/history{query}").status_code == 200
    assert client.get(f"/account/history{query}").status_code == 200


def test_history_page_permissions(admin_client, alice_client):
    alice, _ = alice_client
    _, admin = admin_client
    assert alice.get(f"/users/{admin['user_id']}/history").status_code == 403
    assert admin_client[0].get("/users/zusrnosuchuser/history").status_code == 404
    assert alice.get("/account/history").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?sort=password_hash",
        "?sort=last_sign_in&dir=sideways",
        "?size=100000",
        "?super=maybe&signup=nope&locked=x",
        "?page=99999999999999999999",
        "?sort=sign_up_time&dir=desc&size=50&super=yes&signup=final",
        "?totp=yes",
        "?totp=on",
    ],
)
@BOTH_DATABASES  # numbers no database column holds
def test_the_list_reads_any_query(admin_client, query):
    client, _ = admin_client
    response = client.get(f"/users{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'aria-sort="' in body or 'id="no-results"' in body
