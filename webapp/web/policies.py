"""The Policies page (issue 27, SPEC §19; policies.manage): each account policy switched on or off with its number of
days; switching one on first shows its dry run (how many users, the first page of them) and asks again; "Run now"
runs them (what `flask --app webapp sso run-policies` does) and lists what was done."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from ..i18n import gettext, lazy_gettext
from ..sso import SSOError
from ..sso.kernel.permissions import POLICIES_MANAGE
from ..sso.policies.settings import ACTIONS, NAMES, WARN_BEFORE
from .auth import permission_required, service
from .blueprint import bp
from .refusals import form_errors
from .responses import ViewResponse, page, refusal

# What each policy does, in words (`%(num)s`: its days, shown in the form beside the words).
POLICY_TEXTS = {
    "lock_inactive": (
        lazy_gettext("Lock accounts without a sign-in"),
        lazy_gettext("Lock an account nobody has signed in to for this many days (never signed in: since made)."),
    ),
    "delete_unconfirmed": (
        lazy_gettext("Delete unconfirmed sign-ups"),
        lazy_gettext("Delete a sign-up whose email address was never confirmed, this many days after it was made."),
    ),
    "warn_before": (
        lazy_gettext("Warn before either"),
        lazy_gettext(
            "Email the person this many days before their account is locked or deleted; the action then waits "
            "until the warning is that old."
        ),
    ),
}

# How a run's outcome per user reads (the service's words are the command line's).
OUTCOME_WORDS = {
    "locked": lazy_gettext("locked"),
    "deleted": lazy_gettext("deleted"),
    "warned (lock_inactive)": lazy_gettext("warned before the lock"),
    "warned (delete_unconfirmed)": lazy_gettext("warned before the deletion"),
}


def _days(raw: str | None) -> Any:
    """The days as sent: a whole number, else the text itself (the service names the field)."""
    text = (raw or "").strip()
    try:
        return int(text)
    except ValueError:
        return text


def _page(status: int = 200, errors: dict[str, dict[str, str]] | None = None, sent: dict | None = None):
    policies = service().policies()
    return page(
        "policies/list.html",
        status,
        policies=policies,
        texts=POLICY_TEXTS,
        errors=errors or {},
        sent=sent or {},
        preview=service().policy_dry_run(),
    )


@bp.get("/policies")
@permission_required(POLICIES_MANAGE)
def policies() -> ViewResponse:
    """Every policy with its switch and days, and what a run now would do."""
    return _page()


@bp.post("/policies/<name>")
@permission_required(POLICIES_MANAGE)
def policy_save(name: str) -> ViewResponse:
    """Save one policy; switching it on (or changing the days of one that is on) shows its dry run first and
    asks again."""
    if name not in NAMES:
        abort(404)
    enabled = request.form.get("enabled") == "on"
    days = _days(request.form.get("days"))
    current = service().policies()[name]
    try:
        changes_who = enabled and (not current.enabled or days != current.days)  # on, or on with other days
        if changes_who and request.form.get("confirmed") != "1":
            preview = service().policy_dry_run({name: (True, days)})
            return page(
                "policies/confirm.html",
                name=name,
                days=days,
                already_on=current.enabled,
                heading=gettext("Change the days: %(policy)s", policy=POLICY_TEXTS[name][0])
                if current.enabled
                else gettext("Switch on: %(policy)s", policy=POLICY_TEXTS[name][0]),
                title=POLICY_TEXTS[name][0],
                preview=preview,
                actions=ACTIONS if name == WARN_BEFORE else (name,),
                texts=POLICY_TEXTS,
            )
        service().set_policy(name, enabled=enabled, days=days)
    except SSOError as error:
        errors = form_errors(error, ("days", "enabled"))
        if errors is None:
            return refusal(error)
        return _page(422, {name: errors}, {name: {"enabled": enabled, "days": request.form.get("days", "")}})
    flash(gettext("%(policy)s: saved.", policy=POLICY_TEXTS[name][0]), "success")
    return redirect(url_for("web.policies"), 303)


@bp.post("/policies/run")
@permission_required(POLICIES_MANAGE)
def policies_run() -> ViewResponse:
    """Run the switched-on policies now (and the deletions people scheduled that are due)."""
    try:
        report = service().run_policies()
    except SSOError as error:
        return refusal(error)
    return page("policies/result.html", report=report, words=OUTCOME_WORDS)
