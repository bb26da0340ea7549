"""The full audit history pages: one user's record (super-users) and one's own activity; paged by record
id (Older / Newer), filtered by kind and "changes only" (sign-ins kept apart). Plain GET forms and
links: the same with and without JavaScript."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for

from ..sso import SSOError
from ..sso.kernel.permissions import USERS_VIEW
from .auth import login_required, permission_required, service
from .blueprint import bp
from .display import ACTION_LABELS
from .field_table import register
from .names import usernames
from .responses import ViewResponse, page, refusal

PAGE_ROWS = 25


def _cursor(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and 0 < len(text) <= 18 else None


def _filters(args) -> dict[str, Any]:
    """What the filter form shows, read from the query string (anything unreadable is ignored)."""
    kind = args.get("kind", "")
    return {"kind": kind if kind in ACTION_LABELS else "", "changes": args.get("changes") == "1"}


def _history(endpoint: str, subject_id: str | None, **route: Any) -> tuple[dict, dict, dict]:
    shown = _filters(request.args)
    before, after = _cursor(request.args.get("before")), _cursor(request.args.get("after"))
    if before is not None:
        after = None
    result = service().history_page(
        subject_id,
        limit=PAGE_ROWS,
        before=before,
        after=after,
        kind=shown["kind"] or None,
        changes_only=shown["changes"],
    )
    state: dict[str, Any] = {"kind": shown["kind"] or None, "changes": "1" if shown["changes"] else None}
    links = {
        "older": url_for(endpoint, **route, **state, before=result["older_before"]) if result["has_older"] else None,
        "newer": url_for(endpoint, **route, **state, after=result["newer_after"]) if result["has_newer"] else None,
        "newest": url_for(endpoint, **route, **state) if (before or after) else None,
        "action": url_for(endpoint, **route),
    }
    return result, shown, links


@bp.get("/users/<user_id>/history")
@permission_required(USERS_VIEW)
def user_history(user_id: str) -> ViewResponse:
    """Every change made to one user's record, paged and filtered."""
    try:
        user = service().get_user_by_id(user_id)
        result, shown, links = _history("web.user_history", user_id, user_id=user_id)
        register(service().editable_profile_fields(user_id))  # their labels, and Restore this value
    except SSOError as error:
        return refusal(error)
    return page(
        "users/history.html",
        user=user,
        result=result,
        shown=shown,
        links=links,
        kinds=ACTION_LABELS,
        names=usernames(records=result["records"], user=user),
    )


@bp.get("/account/history")
@login_required
def account_history() -> ViewResponse:
    """My activity: what I did and what was done to me, paged and filtered."""
    try:
        result, shown, links = _history("web.account_history", None)
        register(service().editable_profile_fields())  # their labels, and Restore this value
    except SSOError as error:
        return refusal(error)
    return page(
        "account/history.html",
        result=result,
        shown=shown,
        links=links,
        kinds=ACTION_LABELS,
        names=usernames(records=result["records"]),
        subject_id=g.user["user_id"],
    )
