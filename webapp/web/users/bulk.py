"""Manage users → bulk actions from the list (issue 11): the selected users, a confirmation for what is hard to undo,
and a result page listing each user's outcome. A plain form POST and a page back, with or without JavaScript;
every user goes through the service's single call (`Service.bulk_action`)."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qsl, urlsplit

from flask import g, request, url_for
from werkzeug.datastructures import MultiDict

from ...i18n import N_, format_decimal, gettext, lazy_gettext, ngettext, not_done
from ...sso import Kind, SSOError
from ...sso.bulk import BulkOutcome
from ...sso.kernel.permissions import USERS_VIEW
from ..auth import permission_required, service
from ..blueprint import bp
from ..responses import ViewResponse, page, refusal, safe_next
from .choices import BULK_CHOICES, CONFIRMATIONS, BulkChoice, Confirmation
from .list import list_page

NO_SELECTION = lazy_gettext("Select at least one user first, then choose what to do.")
NO_ACTION = lazy_gettext("Choose what to do with the selected users.")

# A selection's confirmation reuses the single one's words (%(username)s: "each selected user"); sign-out,
# which asks nothing for one user, asks here, where it may sign out a whole page at once.
SIGN_OUT = Confirmation(
    "sign_out",
    "",
    "",
    (
        N_("%(username)s is signed out: their %(sessions)s end now, in every application."),
        N_("Nothing else about the accounts changes; they can log in again."),
        N_("If you are among them, you stay signed in here."),
    ),
)
# Where the single wording names the user in a way a selection cannot.
SELECTION_LINES = {
    "The username %(username)s becomes free for someone else.": N_("Their usernames become free for others.")
}


def _back() -> str:
    """Where the pages lead back to: the list as it was (search, filters, sort, page), never elsewhere."""
    target = safe_next(request.form.get("back"))
    list_path = url_for("web.user_list")
    if target is None or urlsplit(target).path != list_path:
        return list_path
    return target


def _sessions_phrase(total: int) -> str:
    if total == 0:
        return gettext("open sessions (none at the moment)")
    return ngettext("open sessions (%(num)d in all)", "open sessions (%(num)d in all)", total)


def consequences(action: str, sessions: int) -> list[str]:
    """What confirming `action` for a selection does, in the single confirmation's words."""
    confirmation = SIGN_OUT if action == "sign_out" else CONFIRMATIONS[action]
    words = {"username": gettext("each selected user"), "sessions": _sessions_phrase(sessions)}
    lines = [gettext(SELECTION_LINES.get(line, line), **words) for line in confirmation.texts()]
    return [line[:1].upper() + line[1:] for line in lines]


def _list_again(message: str, ids: list[str], action: str) -> ViewResponse:
    """The list as it was, the same boxes ticked, saying what is missing (no error page)."""
    back = _back()
    args = MultiDict(parse_qsl(urlsplit(back).query))
    return list_page(args, back=back, status=422, selected=frozenset(ids), bulk_action=action, bulk_error=message)


def outcome_text(choice: BulkChoice, outcome: BulkOutcome, own: bool) -> str:
    """How one user's outcome reads on the result page."""
    if outcome.outcome == "done":
        done = str(choice.done)
        text = done[:1].upper() + done[1:]
        if choice.action == "sign_out":
            ended = ngettext("%(num)d session ended", "%(num)d sessions ended", outcome.sessions)
            if own:
                return gettext("%(done)s (%(ended)s; this one stays signed in)", done=text, ended=ended)
            return f"{text} ({ended})"
        return text
    if outcome.outcome == "unchanged":
        why = gettext("no other sessions") if own and choice.action == "sign_out" else str(choice.unchanged)
        return gettext("No change: %(why)s", why=why)
    if outcome.outcome == "refused":
        return not_done([outcome.message or ""])
    return gettext("No such user")


def summary(choice: BulkChoice, outcomes: list[BulkOutcome]) -> str:
    """ "2 locked, 1 no change, 1 not done" (the kinds that occurred, in this order)."""
    counts: Counter[str] = Counter(o.outcome for o in outcomes)
    parts = []
    for kind, word in (
        ("done", choice.done),
        ("unchanged", lazy_gettext("no change")),
        ("refused", lazy_gettext("not done")),
        ("not_found", lazy_gettext("no such user")),
    ):
        if counts[kind]:
            parts.append(f"{format_decimal(counts[kind])} {word}")
    return ", ".join(parts) + "."


@bp.post("/users/bulk")
@permission_required(USERS_VIEW)
def user_bulk() -> ViewResponse:
    """Apply the chosen action to the ticked users: approve and unlock at once; lock, reject, sign out and
    delete after a confirmation that lists them. Then each user's outcome."""
    ids = [user_id for user_id in request.form.getlist("user_id") if user_id]
    action = request.form.get("action", "")
    choice = BULK_CHOICES.get(action)
    if not ids:
        return _list_again(NO_SELECTION, ids, action if choice else "")
    if choice is None:
        return _list_again(NO_ACTION, ids, "")
    try:
        if choice.confirm and request.form.get("confirmed") != "1":
            return _confirm(choice, ids)
        outcomes = service().bulk_action(choice.action, ids)
    except SSOError as error:
        if error.kind == Kind.invalid and error.errors:  # too many, or an id no list could have sent
            return _list_again(not_done(error.errors.values()), ids, action)
        return refusal(error)
    me = g.user["user_id"]
    rows = [(o, outcome_text(choice, o, o.user_id == me)) for o in outcomes]
    return page(
        "users/bulk_result.html",
        choice=choice,
        rows=rows,
        summary=summary(choice, outcomes),
        back=_back(),
        title=gettext("%(action)s: results", action=choice.verb),
    )


def _confirm(choice: BulkChoice, ids: list[str]) -> ViewResponse:
    targets = service().bulk_selection(ids)
    found = [t for t in targets if t.username is not None]
    verb = str(choice.verb)
    count = ngettext("%(num)d user", "%(num)d users", len(found))
    return page(
        "users/bulk_confirm.html",
        choice=choice,
        targets=targets,
        question=gettext("%(action)s %(users)s?", action=verb, users=count),
        button=gettext("%(action)s %(users)s for good", action=verb, users=count)
        if choice.action == "delete"
        else gettext("%(action)s %(users)s", action=verb, users=count),
        consequences=consequences(choice.action, sum(t.sessions for t in found)),
        back=_back(),
        me=g.user["user_id"],
    )
