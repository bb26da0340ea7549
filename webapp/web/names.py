"""Usernames for the user ids a page shows (who locked, who decided approval, whom an audit record is about).

The ids are resolved once per page: from what the page already has (the caller, the user on show, the audit
records' `actor_username` and `target_username`), then by one lookup for each distinct id still unknown (super-users only, at most
`MAX_LOOKUPS`). An id that cannot be resolved (the user no longer exists) is shown as the id itself.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import g

from ..sso import SSOError
from .auth import caller_args, cid, users

MAX_LOOKUPS = 20


def usernames(ids: Iterable[Any], *, records: Iterable[Mapping] = (), known: Iterable[Mapping] = ()) -> dict[str, str]:
    """{user_id: username} for the ids in `ids` (None and duplicates ignored)."""
    names: dict[str, str] = {}
    for user in (g.get("user"), *known):
        if user is not None and user.get("user_id") and user.get("username"):
            names[user["user_id"]] = user["username"]
    for record in records:
        for role in ("actor", "target"):
            if record.get(f"{role}_id") and record.get(f"{role}_username"):
                names.setdefault(record[f"{role}_id"], record[f"{role}_username"])
    wanted = {user_id for user_id in ids if isinstance(user_id, str) and user_id}
    missing = sorted(wanted - names.keys())
    if missing and g.get("is_super_user"):
        for user_id in missing[:MAX_LOOKUPS]:
            try:
                found = users().search(cid(), {"user_id": user_id, "paginate": False}, *caller_args())
            except SSOError:
                break
            for user in found["result"]:
                names[user["user_id"]] = user["username"]
    return {user_id: names[user_id] for user_id in wanted if user_id in names}


def history_targets(records: Iterable[Mapping]) -> list[str]:
    """The target ids of audit records."""
    return [record.get("target_id") for record in records]
