"""Required actions and terms in the console (SPEC §19): the way through one's own actions (the hub, the terms to
accept, confirming one's email), an administrator setting and clearing them on Manage user and for many users
at once (the ticked ones, or every user a filter matches: counted and confirmed first), and publishing the
terms. Every form is a plain POST and a page back, with or without JavaScript."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import flash, g, request, url_for
from werkzeug.datastructures import MultiDict

from ..i18n import format_decimal, gettext, ngettext, not_done
from ..sso import Kind, SSOError
from ..sso.kernel.permissions import POLICIES_MANAGE, USERS_CREDENTIALS
from ..sso.kernel.required_actions import ACTIONS
from .auth import login_required, permission_required, service
from .blueprint import bp
from .refusals import form_errors
from .responses import ViewResponse, go, page, refusal, safe_next
from .steps import STEPS
from .users.list import filter_criteria


@bp.get("/account/required")
@login_required
def required_actions() -> ViewResponse:
    """Where a person with required actions goes next: the page of the first, or My account when none is left."""
    pending = g.user.get("required_actions") or []
    return go(url_for(STEPS[pending[0]].endpoint) if pending else url_for("web.account"))


# --- terms -------------------------------------------------------------------------------------------------


@bp.route("/terms", methods=["GET", "POST"])
@login_required
def terms() -> ViewResponse:
    """The current terms; while their acceptance is asked, an Accept button (the version shown is the one accepted)."""
    asked = "accept_terms" in (g.user.get("required_actions") or [])
    try:
        current = service().current_terms()
        if request.method == "POST":
            version = request.form.get("version", "")
            service().accept_terms(int(version) if version.isdigit() and len(version) < 10 else version)
            flash(gettext("Thank you: you accepted the terms."), "success")
            return go(url_for("web.required_actions"))
    except SSOError as error:
        if error.kind == Kind.invalid and "version" in error.errors:  # a newer version was published meanwhile
            flash(gettext("The terms changed while you were reading them. Please read this version."), "warning")
            return go(url_for("web.terms"))
        return refusal(error)
    return page("terms/terms.html", terms=current, asked=asked)


@bp.route("/terms/manage", methods=["GET", "POST"])
@permission_required(POLICIES_MANAGE)
def terms_manage() -> ViewResponse:
    """Publish a new version of the terms (optionally asking everyone to accept it); the versions so far."""
    errors: dict[str, str] | None = {}
    text, require = "", False
    if request.method == "POST":
        text, require = request.form.get("text", ""), request.form.get("require_acceptance") == "1"
        try:
            published = service().publish_terms(text, require)
        except SSOError as error:
            errors = form_errors(error, ("text", "require_acceptance"))
            if errors is None:
                return refusal(error)
        else:
            message = gettext("Version %(version)s of the terms is published.", version=published.version)
            if require:
                message += " " + ngettext(
                    "%(num)d user is asked to accept it at their next step.",
                    "%(num)d users are asked to accept it at their next step.",
                    published.users_asked,
                )
            flash(message, "success")
            return go(url_for("web.terms_manage"))
    try:
        versions = service().list_terms()
    except SSOError as error:
        return refusal(error)
    return page(
        "terms/manage.html", 422 if errors else 200, versions=versions, errors=errors, text=text, require=require
    )


# --- confirming one's email ------------------------------------------------------------------------------------


@bp.route("/account/verify-email", methods=["GET", "POST"])
@login_required
def verify_email() -> ViewResponse:
    """Confirm one's email address: send a link to it (the link confirms)."""
    errors: dict[str, str] | None = {}
    if request.method == "POST":
        try:
            address = service().send_email_verification()
        except SSOError as error:
            errors = form_errors(error, ("email",))
            if errors is None:
                return refusal(error)
        else:
            flash(gettext("We sent a link to %(address)s. Open it to confirm the address.", address=address), "success")
            return go(url_for("web.verify_email"))
    return page("account/verify_email.html", 422 if errors else 200, errors=errors)


@bp.route("/account/verify-email/<token>", methods=["GET", "POST"])
def verify_email_link(token: str) -> ViewResponse:
    """The page a confirmation link opens: a button confirms (a link scanner's GET changes nothing)."""
    if request.method != "POST":
        return page("account/verify_email_link.html", token=token)
    try:
        service().confirm_email_verification(token)
    except SSOError as error:
        if error.kind == Kind.invalid:
            return page("auth/link_invalid.html", 400, what="verify-email")
        return refusal(error)
    flash(gettext("Your email address is confirmed."), "success")
    return go(url_for("web.index"))


# --- administrators ------------------------------------------------------------------------------------------


@bp.post("/users/<user_id>/required-actions")
@permission_required(USERS_CREDENTIALS)
def user_required_actions(user_id: str) -> ViewResponse:
    """Manage user → Required actions: the ticked ones are what the user must do at their next sign-in."""
    chosen = [action for action in request.form.getlist("required_action") if action]
    try:
        user = service().update_user(user_id, {"required_actions": chosen})
    except SSOError as error:
        if error.kind == Kind.invalid and "required_actions" in error.errors:
            flash(not_done(error.errors.values()), "error")
            return go(url_for("web.user_edit", user_id=user_id))
        return refusal(error)
    if user["required_actions"]:
        names = ", ".join(str(STEPS[a].admin_label) for a in user["required_actions"])
        flash(gettext("Saved: at their next sign-in they must first: %(actions)s.", actions=names), "success")
    else:
        flash(gettext("Saved: no required actions."), "success")
    return go(url_for("web.user_edit", user_id=user_id))


def _list_address() -> str:
    """The user list as it was (its filter), never another page."""
    target = safe_next(request.form.get("back"))
    list_path = url_for("web.user_list")
    return target if target is not None and urlsplit(target).path == list_path else list_path


def _filter_criteria(back: str) -> dict:
    """The search criteria of the list at `back` (its query string), as the list itself reads them."""
    fields = service().viewable_profile_fields()
    return filter_criteria(MultiDict(parse_qsl(urlsplit(back).query)), fields)


@bp.post("/users/bulk/required-action")
@permission_required(USERS_CREDENTIALS)
def user_bulk_required_action() -> ViewResponse:
    """Set or clear one required action for the ticked users, or for every user the list's filter matches
    (after a confirmation page that says how many)."""
    back = _list_address()
    action, op, scope = (request.form.get(k, "") for k in ("required_action", "op", "scope"))
    clear = op == "clear"
    if action not in ACTIONS or op not in ("set", "clear") or scope not in ("selected", "filter"):
        flash(gettext("Choose an action, whether to require or clear it, and for whom."), "error")
        return go(back)
    step = STEPS[action]
    try:
        if scope == "filter":
            criteria = _filter_criteria(back)
            if request.form.get("confirmed") != "1":
                count = service().filter_count(criteria)
                return page(
                    "users/required_action_confirm.html",
                    step=step,
                    clear=clear,
                    count=count,
                    back=back,
                    question=(
                        ngettext(
                            "Clear “%(action)s” for %(num)d user matching this filter?",
                            "Clear “%(action)s” for %(num)d users matching this filter?",
                            count,
                            action=step.admin_label,
                        )
                        if clear
                        else ngettext(
                            "Require “%(action)s” of %(num)d user matching this filter?",
                            "Require “%(action)s” of %(num)d users matching this filter?",
                            count,
                            action=step.admin_label,
                        )
                    ),
                )
            changed = service().required_action_by_filter(action, criteria, clear=clear)
            matched = service().filter_count(criteria)
            flash(
                ngettext("Done: %(num)d user changed.", "Done: %(num)d users changed.", changed)
                if changed >= matched
                else ngettext(
                    "Done: %(num)d user changed (the others had it so already).",
                    "Done: %(num)d users changed (the others had it so already).",
                    changed,
                ),
                "success",
            )
            return go(back)
        ids = [user_id for user_id in request.form.getlist("user_id") if user_id]
        if not ids:
            flash(gettext("Select at least one user first, then choose what to do."), "error")
            return go(back)
        outcomes = service().bulk_required_action(action, ids, clear=clear)
    except SSOError as error:
        if error.kind == Kind.invalid and error.errors:
            flash(not_done(error.errors.values()), "error")
            return go(back)
        return refusal(error)
    words = {
        "done": gettext("Cleared") if clear else gettext("Required"),
        "unchanged": gettext("No change: already so"),
        "not_found": gettext("No such user"),
    }
    rows = [(o, words.get(o.outcome) or not_done([o.message or ""])) for o in outcomes]
    done = sum(1 for o in outcomes if o.outcome == "done")
    return page(
        "users/required_action_result.html",
        step=step,
        clear=clear,
        rows=rows,
        summary=gettext("%(done)s of %(total)s changed.", done=format_decimal(done), total=format_decimal(len(rows))),
        back=back,
    )
