"""hardening: normalised usernames, throttle (issue 12)

Usernames are stored in NFKC form without format, bidi, private-use or unassigned characters, and
every search column holds the NFKC case-folded value, so `jose\\u0301` and `josé`, or `root\\u200b1`
and `root1`, can no longer be two accounts. Existing rows are brought to that form here; when two
usernames become one, the later account (by sign-up time) gets a `-2`, `-3` ... suffix. Every
username changed gets an audit record (channel `cli`, cid `migration-0004`). The throttle's marks
get an index on (key, time).

The rules are copied here, not imported, so that this migration keeps meaning what it meant.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

REFUSED = ("Cf", "Co", "Cn", "Zl", "Zp", "Cc", "Cs")
SEARCHABLE = ("username", "email", "display_name", "first_name", "middle_name", "last_name")
USERNAME_MAX = 128

users = sa.table("sso_user", sa.column("user_id", sa.String), sa.column("sign_up_time", sa.DateTime),
                 *(sa.column(name, sa.String) for name in SEARCHABLE),
                 *(sa.column(f"{name}_search", sa.String) for name in SEARCHABLE))
audit = sa.table("sso_audit", sa.column("time", sa.DateTime), sa.column("cid", sa.String),
                 sa.column("action", sa.String), sa.column("actor_id", sa.String),
                 sa.column("target_id", sa.String), sa.column("channel", sa.String),
                 sa.column("current_app", sa.String), sa.column("remote_addr", sa.String),
                 sa.column("user_agent", sa.String), sa.column("changes", sa.JSON))


def fold(value: str | None) -> str | None:
    if value is None:
        return None
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def clean_username(value: str) -> str:
    kept = "".join(char for char in value if unicodedata.category(char) not in REFUSED)
    kept = "".join(unicodedata.normalize("NFKC", kept).split())  # NFKC can make spaces; none in a username
    return kept[:USERNAME_MAX]


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(users).order_by(users.c.sign_up_time, users.c.user_id)).mappings().all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    taken: set[str] = set()
    final: dict[str, dict] = {}
    renamed: list[tuple[str, str, str]] = []
    for row in rows:
        base = clean_username(row["username"]) or "user"
        username, number = base, 1
        while fold(username) in taken:
            number += 1
            suffix = f"-{number}"
            username = base[:USERNAME_MAX - len(suffix)] + suffix
        taken.add(fold(username))
        values = {"username": username, **{f"{name}_search": fold(username if name == "username" else row[name])
                                           for name in SEARCHABLE}}
        if any(row[key] != value for key, value in values.items()):
            final[row["user_id"]] = values
        if username != row["username"]:
            renamed.append((row["user_id"], row["username"], username))
    # First move every changing username_search out of the way, so no intermediate state is a duplicate.
    for user_id in final:
        conn.execute(sa.update(users).where(users.c.user_id == user_id)
                     .values(username_search=f"~0004~{user_id}"))
    for user_id, values in final.items():
        conn.execute(sa.update(users).where(users.c.user_id == user_id).values(**values))
    for user_id, old, new in renamed:
        conn.execute(sa.insert(audit).values(
            time=now, cid="migration-0004", action="update", actor_id=None, target_id=user_id, channel="cli",
            current_app=None, remote_addr=None, user_agent=None,
            changes={"username": {"old": old, "new": new}}))
    with op.batch_alter_table("sso_login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_sso_login_failure_key")
        batch_op.create_index("ix_sso_login_failure_key_time", ["key", "time"], unique=False)


def downgrade() -> None:
    # The normalised usernames stay (the old forms were the defect); only the index goes back.
    with op.batch_alter_table("sso_login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_sso_login_failure_key_time")
        batch_op.create_index("ix_sso_login_failure_key", ["key"], unique=False)
