"""Pages stay small whatever piles up: waiting messages in the session cookie, hundreds of sessions."""

from __future__ import annotations

import re

from ..conftest import PASSWORD
from .html_forms import element, form, text


def _flash_count(html: str) -> int:
    return len(re.findall(r'<div class="flash flash-', html))


def test_a_client_that_posts_without_reading_pages_keeps_only_the_newest_five_messages(alice_client):
    client, _user = alice_client
    account = form(client, "/account", "account-form")
    for _ in range(8):  # a replayed form: each post leaves a message ("Nothing to save") nobody reads
        assert account.submit(client).status_code == 303
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 4096, "a browser drops a cookie over 4 KB"
    html = text(client.get("/account"))
    assert _flash_count(html) == 5
    assert _flash_count(text(client.get("/account"))) == 0, "shown once, then gone"


def _rows(html: str, table_id: str) -> int:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return table.count('<tr id="session-')


def test_my_devices_list_the_newest_twenty_and_always_this_one(sso, alice_client):
    client, user = alice_client  # this browser's session is the oldest of them all
    for n in range(25):
        sso.user.login("cid", user["username"], PASSWORD, "CRM", f"10.0.1.{n}")
    html = text(client.get("/account"))
    assert _rows(html, "devices") == 20
    assert 'id="this-device"' in html
    assert "20 of your 26 open sessions are shown" in element(html, "devices-more")
    assert 'id="end-others-button"' in html


def test_manage_user_says_how_many_sessions_there_are_and_lists_the_newest(sso, admin_client, make_user):
    client, _admin = admin_client
    bob = make_user("bob")
    for n in range(22):
        sso.user.login("cid", "bob", PASSWORD, "CRM", f"10.0.2.{n}")
    html = text(client.get(f"/users/{bob['user_id']}"))
    assert _rows(html, "user-sessions") == 20
    assert "22 open sessions, newest first; the newest 20 are shown." in element(html, "sessions-count")
