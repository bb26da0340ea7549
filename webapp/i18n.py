"""Languages (SPEC §22): Flask-Babel for the console, the language each request is shown in, translated messages.

Python code that shows text to a person imports from here: `gettext`, `ngettext`, `lazy_gettext`,
`lazy_ngettext` (Flask-Babel's), and `translate` for a message the service raised (`webapp.sso.kernel.texts`).
Templates use `_()` / `ngettext()` / `{% trans %}`. The catalogs are `webapp/translations/<tag>/LC_MESSAGES/
messages.po`; `scripts/translations.py` extracts, updates, checks and compiles them (the bootstrap compiles).

The language of a request: the signed-in person's `locale`, else the one picked in this browser's footer,
else the best match of `Accept-Language`, else `SSO_DEFAULT_LOCALE`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, LazyString, format_datetime, format_decimal, get_locale, get_translations

from .sso.email.mail import Mailer
from .sso.kernel.texts import LOCALES, SOURCE_LOCALE, Localized, Text, lifetime

__all__ = [
    "LANGUAGE_NAMES",
    "LOCALES",
    "N_",
    "PICKED_KEY",
    "SOURCE_LOCALE",
    "Nn_",
    "current_locale",
    "format_datetime",
    "format_decimal",
    "gettext",
    "init_i18n",
    "lazy_gettext",
    "lazy_ngettext",
    "ngettext",
    "not_done",
    "sentence",
    "translate",
]

# Each shipped language named in itself (an autonym), whatever language the page is in.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "pl": "polski"}
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


def translations() -> Any:
    """Flask-Babel's `get_translations()`, kept on the request's Babel state while its locale and domain stay
    the same objects (issue 30: a page asks for it once per string, two hundred times on Manage user, and
    each time Flask-Babel looks up its state, the locale and the locale's name again). `refresh()` and
    `force_locale()` replace the locale object, so the next call asks Flask-Babel afresh."""
    space = _babel_state()
    kept = getattr(space, "sso_translations", None)
    if (
        kept is not None
        and kept[0] is getattr(space, "babel_locale", None)
        and kept[1] is getattr(space, "babel_domain", None)
    ):
        return kept[2]
    found = get_translations()
    space = _babel_state()
    if space is not None and getattr(space, "babel_locale", None) is not None:
        space.sso_translations = (space.babel_locale, getattr(space, "babel_domain", None), found)
    return found


def _babel_state() -> Any:
    """Flask-Babel's state of this app context (`g._flask_babel`), or None: one look through the `g` proxy."""
    try:
        return g._flask_babel
    except (AttributeError, RuntimeError):  # none yet; outside an app context
        return None


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's `gettext` (the same answer), through `translations()`."""
    text = translations().ugettext(string)
    return text if not variables else text % variables


def ngettext(singular: str, plural: str, num: Any, **variables: Any) -> str:
    """Flask-Babel's `ngettext` (the same answer), through `translations()`."""
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    return text if not variables else text % variables


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """Flask-Babel's `lazy_gettext`: translated each time it is shown, through this module's `gettext`."""
    return LazyString(gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: Any, **variables: Any) -> LazyString:
    """Flask-Babel's `lazy_ngettext`, through this module's `ngettext`."""
    return LazyString(ngettext, singular, plural, num, **variables)


def N_(text: str) -> str:
    """Mark `text` for the catalogs where it is written (a module-level table); translate it where it is shown."""
    return text


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular and plural pair for the catalogs (for `ngettext` where it is shown)."""
    return singular, plural


def current_locale() -> str:
    """The BCP 47 tag of the language this request is shown in (`<html lang>`)."""
    return str(get_locale() or SOURCE_LOCALE).replace("_", "-")


def translate(message: str | None) -> str | None:
    """A message the service raised, in this request's language (English when the catalog has no entry); an
    administrator's words (`Localized`: a profile field's label or description) in it when translated, else as
    written."""
    if isinstance(message, Localized):
        return message.in_locale(str(get_locale() or SOURCE_LOCALE))
    if isinstance(message, Text):
        if message.plural is not None and message.number is not None:
            values = {key: value for key, value in message.values.items() if key != "num"}  # ngettext sets num
            return ngettext(message.msgid, message.plural, message.number, **values)
        return gettext(message.msgid, **message.values)
    return gettext(message) if message else message


def sentence(message: str | None) -> str:
    """A service message as a sentence on a page: translated, its first letter capitalised, a full stop."""
    text = translate(message) or ""
    return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else ""


def not_done(messages: Iterable[str]) -> str:
    """'Not done: reason; reason' from the service's messages, in this request's language."""
    return gettext("Not done: %(reasons)s", reasons="; ".join(translate(message) or "" for message in messages))


def page_locale(recipient_id: str | None = None) -> str | None:
    """The language of the page being answered, when the person at the keyboard is the message's recipient: no
    one is signed in (sign-up, "forgot password", a sign-in), or the signed-in person is `recipient_id`. A message
    it asks for is then sent in it when the recipient has no `locale` of their own. None outside a request, and
    when an administrator's action tells someone else (their page's language says nothing of the recipient's)."""
    if not has_request_context():
        return None
    user = g.get("user")
    if user and recipient_id is not None and user.get("user_id") != recipient_id:
        return None
    return current_locale()


def lifetime_words(minutes: int) -> str:
    """A lifetime in this request's language: '30 Minuten', '2 dni'."""
    return translate(lifetime(minutes)) or ""


def init_i18n(app: Flask) -> None:
    """Wire Flask-Babel: the catalogs, the choice of language, `_` and `translate` in templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=choose_locale, default_locale=SOURCE_LOCALE, default_timezone="UTC")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # Flask-Babel's, through `translations()`
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks read as one line, as extracted
    app.jinja_env.filters.update(translate=translate, lifetime=lifetime_words, number=format_decimal)
    mailer = app.extensions["sso"].ctx.mailer
    if isinstance(mailer, Mailer):
        mailer.page_locale = page_locale
    app.jinja_env.globals.update(
        current_locale=current_locale,
        language_names=LANGUAGE_NAMES,
        translated_locales=tuple(locale for locale in LOCALES if locale != SOURCE_LOCALE),
    )
