"""One authentication per console request (issue 14), counted in the SQL the request sends."""

from __future__ import annotations

from sqlalchemy import event

from .conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES  # the SQL a request sends, counted


def session_lookups(app):
    seen = []

    def spy(_conn, _cursor, statement, *_args):
        if (
            "sso_session" in statement
            and "JOIN" in statement.upper()
            and statement.lstrip().upper().startswith("SELECT")
        ):
            seen.append(statement)

    event.listen(app.extensions["sso_engine"], "before_cursor_execute", spy)
    return seen


def test_the_manage_user_page_and_the_list_look_the_session_up_once(app, admin_client, make_user):
    client, _ = admin_client
    target = make_user("bob")
    page = f"/users/{target['user_id']}"
    client.get(page)  # a first GET may renew the session; count the next ones
    lookups = session_lookups(app)
    assert client.get(page).status_code == 200
    assert len(lookups) == 1, "the role check, the user and its history share one authentication"

    lookups.clear()
    list_page = client.get("/users?q=bob")
    assert list_page.status_code == 200 and len(lookups) == 1
