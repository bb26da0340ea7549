"""The footer's language picker (SPEC §22): a small form that works without JavaScript. It keeps the choice in
this browser's session and, for a signed-in person, saves it as their `locale` (the normal audited update)."""

from __future__ import annotations

from flask import request, session
from flask_babel import refresh

from ..i18n import LOCALES, PICKED_KEY, gettext
from ..sso import SSOError
from .auth import load_caller, service
from .blueprint import bp
from .refusals import NotSignedIn
from .responses import ViewResponse, error_page, go, refusal, safe_next


@bp.post("/language")
def set_language() -> ViewResponse:
    """Show the console in the chosen language from now on, and back to the page the person was on."""
    tag = request.form.get("locale", "")
    if tag not in LOCALES:
        return error_page(
            400,
            gettext("Language not changed"),
            gettext(
                "“%(value)s” is not one of the offered languages: %(choices)s.",
                value=tag[:40],
                choices=", ".join(LOCALES),
            ),
        )
    session[PICKED_KEY] = tag
    try:
        load_caller()
    except NotSignedIn:
        pass  # not signed in: this browser's session keeps the choice
    else:
        try:
            service().update_user(None, {"locale": tag})
        except SSOError as error:
            return refusal(error)
    refresh()  # this request's answer is already in the new language
    return go(safe_next(request.form.get("next")) or "/")
