"""Languages (SPEC §22): Flask-Babel for the console, the language each request is shown in, translated messages.

Python code that shows text to a person imports from here: `gettext`, `ngettext`, `lazy_gettext`,
`lazy_ngettext` (Flask-Babel's), and `translate` for a message the service raised (`webapp.sso.texts`).
Templates use `_()` / `ngettext()` / `{% trans %}`. The catalogs are `webapp/translations/<tag>/LC_MESSAGES/
messages.po`; `scripts/translations.py` extracts, updates, checks and compiles them (the bootstrap compiles).

The language of a request: the signed-in person's `locale`, else the one picked in this browser's footer,
else the best match of `Accept-Language`, else `SSO_DEFAULT_LOCALE`.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext, lazy_gettext, lazy_ngettext, ngettext

from .sso.texts import LOCALES, SOURCE_LOCALE, Text

__all__ = [
    "LOCALES",
    "current_locale",
    "gettext",
    "init_i18n",
    "lazy_gettext",
    "lazy_ngettext",
    "ngettext",
    "translate",
]

PICKED_KEY = "locale"  # the session key of the language picked in the footer (people not signed in)


def choose_locale() -> str:
    """The language of this request (see the module's docstring)."""
    if not has_request_context():
        return current_app.config["SSO_DEFAULT_LOCALE"]
    user = g.get("user")
    if user and user.get("locale") in LOCALES:
        return user["locale"]
    picked = session.get(PICKED_KEY)
    if picked in LOCALES:
        return picked
    return request.accept_languages.best_match(LOCALES) or current_app.config["SSO_DEFAULT_LOCALE"]


def current_locale() -> str:
    """The BCP 47 tag of the language this request is shown in (`<html lang>`)."""
    return str(get_locale() or SOURCE_LOCALE).replace("_", "-")


def translate(message: str | None) -> str | None:
    """A message the service raised, in this request's language (English when the catalog has no entry)."""
    if isinstance(message, Text):
        if message.plural is not None and message.number is not None:
            return ngettext(message.msgid, message.plural, message.number, **message.values)
        return gettext(message.msgid, **message.values)
    return gettext(message) if message else message


def init_i18n(app: Flask) -> None:
    """Wire Flask-Babel: the catalogs, the choice of language, `_` and `translate` in templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=choose_locale, default_locale=SOURCE_LOCALE, default_timezone="UTC")
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks read as one line, as extracted
    app.jinja_env.filters["translate"] = translate
    app.jinja_env.globals.update(current_locale=current_locale)
