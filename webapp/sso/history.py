"""The audit history (SPEC §4, §7): one's own activity, or the changes made to one user."""
from __future__ import annotations

from sqlalchemy import select, union

from ..db import reading
from ..models import audit, users
from .attributes import text_problem
from .authn import authenticate
from .context import Context
from .errors import super_user_required

HISTORY_MAX = 500


def history(ctx: Context, cid, user_id, current_ust, current_app, remote_addr, *, limit: int = 50) -> list[dict]:
    """Audit records, newest first: with no `user_id`, the caller's own activity (what they did and
    what was done to them); with one, the changes made to that user's record (super-users, or oneself).
    Each record carries `actor_username` and `target_username` (None for a user that no longer exists)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, current_ust, current_app)
        if user_id is not None and user_id != caller.user_id and not caller.is_super_user:
            raise super_user_required()
        if user_id is not None and (not isinstance(user_id, str) or text_problem(user_id)):
            return []  # no user has such an id (and PostgreSQL could not compare it)
        size = max(1, min(limit, HISTORY_MAX))
        if user_id is None:
            # Two index-ordered LIMIT queries: an OR over both columns would sort every match.
            newest = [select(audit.c.id).where(column == caller.user_id).order_by(audit.c.id.desc())
                      .limit(size).subquery() for column in (audit.c.target_id, audit.c.actor_id)]
            where = audit.c.id.in_(union(*(select(part.c.id) for part in newest)))
        else:
            where = audit.c.target_id == user_id
        actor, target = users.alias("actor"), users.alias("target")
        query = (select(audit, actor.c.username.label("actor_username"),
                        target.c.username.label("target_username"))
                 .outerjoin(actor, actor.c.user_id == audit.c.actor_id)
                 .outerjoin(target, target.c.user_id == audit.c.target_id)
                 .where(where).order_by(audit.c.id.desc()).limit(size))
        return [dict(row) for row in conn.execute(query).mappings()]
