"""Manage users → the list: searched by username, email or name; filtered; sorted by any column; paged."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request, stream_with_context, url_for

from ...i18n import lazy_gettext
from ...sso import SSOError
from ...sso.accounts.search import SEARCH_KEYS, USER_IDS_MAX
from ...sso.bulk import ACTIONS as BULK_ACTIONS
from ...sso.kernel.attributes import APPROVAL_STATUSES, SIGN_UP_STATUSES
from ...sso.kernel.permissions import USERS_VIEW
from ...sso.kernel.profile_fields import ProfileField
from ..auth import may, permission_required, service
from ..blueprint import bp
from ..refusals import form_errors
from ..responses import ViewResponse, page, refusal, wants_partial
from .choices import BULK_CHOICES

PAGE_SIZE = 20
SORT_COLUMNS = {  # the list's sortable columns: query-string key → (search order_by, header)
    "username": lazy_gettext("Username"),
    "display_name": lazy_gettext("Display name"),
    "email": lazy_gettext("Email"),
    "approval_status": lazy_gettext("Approval"),
    "is_locked": lazy_gettext("Locked"),
    "sign_up_status": lazy_gettext("Sign-up"),
    "sign_up_time": lazy_gettext("Created"),
    "last_sign_in": lazy_gettext("Last sign-in"),
}
PAGE_SIZES = (20, 50, 100)
YES_NO = {"yes": True, "no": False}
LIST_STATE = ("q", "locked", "approval", "signup", "super", "totp", "deleting", "sort", "dir", "size", "ids")


NOT_SET = "(not set)"  # a profile field filter's choice for "has no value"


def _profile_criteria(args, fields: tuple[ProfileField, ...], shown: dict[str, str], criteria: dict[str, Any]) -> None:
    """The searchable profile fields' filters (`pf_NAME`; text matches by *contains*) and `lacking`."""
    for f in fields:
        if not f.searchable:
            continue
        key = f"pf_{f.name}"
        text = shown[key] = args.get(key, "").strip()
        if not text:
            continue
        if text == NOT_SET:
            criteria[f.name] = None
        elif f.type == "bool":
            criteria[f.name] = {"yes": True, "no": False}.get(text, text)
        elif f.type == "integer" and re.fullmatch(r"-?[0-9]{1,19}", text):
            criteria[f.name] = int(text)
        else:
            criteria[f.name] = text
            if f.type in ("text", "email", "url"):
                criteria["is_name_exact"] = False
    shown["lacking"] = "yes" if args.get("lacking") == "yes" else ""
    if shown["lacking"]:
        criteria["lacking_required"] = True


def _search_criteria(args, fields: tuple[ProfileField, ...] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """Search criteria from the query string, and what the filter form shows (unreadable values: the default)."""
    shown = {key: args.get(key, "").strip() for key in LIST_STATE}
    page_text = args.get("page", "1")
    size = int(shown["size"]) if shown["size"].isdigit() and int(shown["size"]) in PAGE_SIZES else PAGE_SIZE
    shown["size"] = str(size) if size != PAGE_SIZE else ""
    criteria: dict[str, Any] = {"page_size": size, "with_last_sign_in": True}
    sorted_otherwise = args.get("sort", "username") not in ("", "username") or args.get("dir") == "desc"
    if args.get("after") and not sorted_otherwise:  # paging by key (beyond the counted 10,000)
        criteria["after"] = args["after"]
    else:
        # ASCII digits only, and few of them: "³".isdigit() is true and int() of 5000 digits raises (issue 12)
        criteria["cur_page"] = int(page_text) if re.fullmatch(r"[0-9]{1,9}", page_text) and int(page_text) > 0 else 1
    if shown["q"]:
        criteria["q"] = shown["q"]
    if shown["ids"]:  # the users a schema change's dry run found (comma-separated ids)
        criteria["user_ids"] = [i for i in shown["ids"].split(",") if i][:USER_IDS_MAX]
    for key, criterion in (
        ("locked", "is_locked"),
        ("super", "is_super_user"),
        ("totp", "is_totp_enabled"),
        ("deleting", "deletion_scheduled"),
    ):
        if shown[key] in YES_NO:
            criteria[criterion] = YES_NO[shown[key]]
        else:
            shown[key] = ""
    if shown["approval"]:
        criteria["approval_status"] = shown["approval"]
    if shown["signup"] in SIGN_UP_STATUSES:
        criteria["sign_up_status"] = shown["signup"]
    else:
        shown["signup"] = ""
    _profile_criteria(args, fields, shown, criteria)
    sortable = [*SORT_COLUMNS, *(f.name for f in fields if f.searchable and f.list_column)]
    if shown["sort"] in sortable and shown["sort"] != "username":
        criteria["order_by"] = shown["sort"]
    else:
        shown["sort"] = ""
    if shown["dir"] == "desc":
        criteria["order"] = "desc"
    else:
        shown["dir"] = ""
    return criteria, shown


def filter_criteria(args, fields: tuple[ProfileField, ...] = ()) -> dict[str, Any]:
    """The search criteria a list address's query string `args` stands for (a bulk action on its filter)."""
    return _search_criteria(args, fields)[0]


@bp.get("/users")
@permission_required(USERS_VIEW)
def user_list() -> ViewResponse:
    """Users: searched by username, email or name; filtered; sorted by any column; paged."""
    return list_page(request.args, back=request.full_path.rstrip("?"))


@bp.get("/users.csv")
@permission_required(USERS_VIEW)
def user_list_csv() -> ViewResponse:
    """The list as CSV, as it is filtered and searched now (every match, in username order; streamed): the
    list's columns and the profile fields the administrator may view, never a sensitive one."""
    try:
        fields = service().viewable_profile_fields()
    except SSOError as error:
        return refusal(error)
    criteria, _ = _search_criteria(request.args, fields)
    try:
        chunks = service().export_users(criteria)
    except SSOError as error:
        if form_errors(error, (*SEARCH_KEYS, *(f.name for f in fields), "lacking_required", "user_ids")) is None:
            return refusal(error)
        return list_page(request.args, back=url_for("web.user_list"))  # the list, saying what is wrong
    response = current_app.response_class(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="users.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def list_page(
    args,
    *,
    back: str,
    status: int = 200,
    selected: frozenset[str] = frozenset(),
    bulk_action: str = "",
    bulk_error: str | None = None,
) -> ViewResponse:
    """The list for the query string `args`; `back` is its address (where a bulk action's pages lead back
    to). A refused bulk action shows it again with its message (`bulk_error`) and the same boxes ticked."""
    errors: dict[str, str] | None = {}
    try:
        fields = service().viewable_profile_fields()
    except SSOError as error:
        return refusal(error)
    criteria, shown = _search_criteria(args, fields)
    try:
        result = service().search(criteria)
    except SSOError as error:
        errors, result = (
            form_errors(error, (*SEARCH_KEYS, *(f.name for f in fields), "lacking_required", "user_ids")),
            None,
        )
        if errors is None:
            return refusal(error)
    status = 422 if errors else status

    def list_url(**changes: Any) -> str:
        state = {**shown, "page": None, **changes}
        return url_for("web.user_list", **{key: value for key, value in state.items() if value})

    def page_url(number: int | None = 1, after: str | None = None) -> str:
        if after and (shown["sort"] or shown["dir"]):  # key paging follows the username order only
            number, after = ((result or {}).get("cur_page") or 1) + 1, None
        return list_url(page=number if number and number > 1 else None, after=after or None)

    def sort_url(key: str) -> str:
        """The header's link: sort by `key`, or flip the direction when it is the current sort."""
        current = shown["sort"] or "username"
        flip = key == current and shown["dir"] != "desc"
        return list_url(sort=key if key != "username" else None, dir="desc" if flip else None)

    state: dict[str, Any] = {key: value for key, value in shown.items() if value and key not in ("sort", "dir", "size")}
    context = {
        "csv_url": url_for("web.user_list_csv", **state),
        "result": result,
        "shown": shown,
        "errors": errors,
        "page_url": page_url,
        "sort_url": sort_url,
        "sort_columns": SORT_COLUMNS,
        "profile_filters": [f for f in fields if f.searchable],
        "profile_columns": [f for f in fields if f.list_column],
        "not_set": NOT_SET,
        "page_sizes": PAGE_SIZES,
        "default_size": PAGE_SIZE,
        "approval_statuses": APPROVAL_STATUSES,
        "sign_up_statuses": SIGN_UP_STATUSES,
        "back": back,
        "bulk_choices": {key: c for key, c in BULK_CHOICES.items() if may(BULK_ACTIONS[key].permission)},
        "selected": selected,
        "bulk_action": bulk_action,
        "bulk_error": bulk_error,
    }
    return page("users/_rows.html" if wants_partial() else "users/list.html", status, **context)
