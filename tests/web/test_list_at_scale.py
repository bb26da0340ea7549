"""The user list beyond the counted 10,000 (issue 14): "more than 10,000", and Next by key."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from typing import Any

from sqlalchemy import insert

from webapp.db import writing
from webapp.sso.accounts.search import COUNT_CAP
from webapp.sso.kernel.attributes import fold
from webapp.sso.kernel.rows import new_user_id
from webapp.sso.kernel.tables import users

from .conftest import BOTH_DATABASES
from .html_forms import text

pytestmark = BOTH_DATABASES  # 10,003 rows, counted up to the cap and paged by key in each database


def test_a_broad_search_says_more_than_10000_and_pages_on_by_key(app, admin_client):
    client, _ = admin_client
    now = datetime(2026, 1, 1)
    rows = []
    for i in range(COUNT_CAP + 3):
        row: dict[str, Any] = {
            "user_id": new_user_id(),
            "username": f"many{i:06d}",
            "display_name": "Rosalind Kettering",
            "is_super_user": False,
            "is_active": True,
            "is_internal": False,
            "is_locked": False,
            "password_is_set": False,
            "password_must_change": False,
            "sign_up_time": now,
            "sign_up_status": "final",
            "approval_status": "approved",
            "version": 1,
        }
        for name in ("username", "display_name"):
            row[f"{name}_search"] = fold(row[name])
        rows.append(row)
    with writing(app.extensions["sso_engine"]) as conn:
        conn.execute(insert(users), rows)

    first = text(client.get("/users?q=rosalind"))
    assert "More than 10,000 users" in first
    first_names = set(re.findall(r">(many\d{6})<", first))
    nxt = re.search(r'id="page-next"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="page-next"', first)
    assert nxt, "a Next link"
    url = unescape(nxt.group(1) or nxt.group(2))
    assert "after=" in url
    second = text(client.get(url))
    second_names = set(re.findall(r">(many\d{6})<", second))
    assert second_names and not first_names & second_names
    assert min(second_names) > max(first_names)
    assert 'id="page-first"' in second
