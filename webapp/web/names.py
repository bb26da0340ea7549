"""Usernames for the user ids a page shows (who locked, who decided approval, whom an audit record is about).

Every id comes with its username in the page's own data: the caller, the user on show (with the
usernames of its `locked_by` and `approval_status_mod_by`, from `get_user_by_id`), and the audit
records' `actor_username` / `target_username`. No lookups: an id without a name (the user no longer
exists) is shown as the id itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import g

from ..sso.kernel.presentation import UserData


def usernames(*, records: Iterable[Mapping] = (), user: UserData | None = None) -> dict[str, str]:
    """{user_id: username} for every user the page's data names."""
    names: dict[str, str] = {}
    for record in records:
        for role in ("actor", "target"):
            if record.get(f"{role}_id") and record.get(f"{role}_username"):
                names[record[f"{role}_id"]] = record[f"{role}_username"]
    if user is not None:
        names.update(user.usernames)
    for known in (user, g.get("user")):
        if known is not None and known.get("user_id") and known.get("username"):
            names[known["user_id"]] = known["username"]
    return names
