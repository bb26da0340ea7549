"""Messages the service raises, written translatable: English to every machine, translated where a person reads.

An `SSOError`'s messages are English (the JSON API answers them as they are, SPEC §22). A message written as
`_t("must be at most %(limit)d characters", limit=256)` is still that English string, and it also remembers its
msgid and values, so the console (`webapp.i18n.translate`) can show it in the reader's language.
`scripts/translations.py` extracts `_t` and `_nt` calls into the catalogs like `gettext` and `ngettext`.
The service imports no Flask: this module only records what to translate.
"""

from __future__ import annotations

from typing import Any

# The languages the product ships (BCP 47 tags): English is the source, each other one has a catalog in
# webapp/translations/<tag>/LC_MESSAGES/messages.po. The `locale` attribute's values come from this list.
LOCALES = ("en", "de", "pl")
SOURCE_LOCALE = "en"


class Text(str):
    """An English message that knows its msgid (and plural form, count and values) for translation."""

    msgid: str
    plural: str | None
    number: int | None
    values: dict[str, Any]

    def __new__(cls, msgid: str, values: dict[str, Any], plural: str | None = None, count: int | None = None) -> Text:
        english = plural if plural is not None and count != 1 else msgid
        self = super().__new__(cls, english % values if values else english)
        self.msgid, self.plural, self.number, self.values = msgid, plural, count, values
        return self


def _t(msgid: str, **values: Any) -> Text:
    """A translatable English message; `%(name)s` placeholders are filled from `values`."""
    return Text(msgid, values)


def _nt(singular: str, plural: str, count: int, **values: Any) -> Text:
    """A translatable English message with a plural form chosen by `count` (`%(num)d` in the text)."""
    values.setdefault("num", count)
    return Text(singular, values, plural, count)


def at_most_characters(limit: int) -> Text:
    """'must be at most 256 characters', in the plural form each language needs for the number (Polish has
    three: 1 znak, 254 znaki, 256 znaków)."""
    return _nt("must be at most %(num)d character", "must be at most %(num)d characters", limit)


def at_least_characters(limit: int) -> Text:
    """'must be at least 8 characters' (plural forms as `at_most_characters`)."""
    return _nt("must be at least %(num)d character", "must be at least %(num)d characters", limit)


def text_of_at_most_characters(limit: int, *, not_empty: bool = False) -> Text:
    """'must be text of at most 1024 characters' (', not empty'), plural forms as `at_most_characters`."""
    if not_empty:
        return _nt(
            "must be text of at most %(num)d character, not empty",
            "must be text of at most %(num)d characters, not empty",
            limit,
        )
    return _nt("must be text of at most %(num)d character", "must be text of at most %(num)d characters", limit)


def lifetime(minutes: int) -> Text:
    """How long something lasts, in words: '30 minutes', '24 hours', '2 days' (plural forms per language)."""
    if minutes % (60 * 24) == 0 and minutes >= 60 * 48:
        return _nt("%(num)d day", "%(num)d days", minutes // (60 * 24))
    if minutes % 60 == 0:
        return _nt("%(num)d hour", "%(num)d hours", minutes // 60)
    return _nt("%(num)d minute", "%(num)d minutes", minutes)


class Localized(str):
    """An administrator's words with their translations (a profile field's label or description, SPEC §16):
    the source text as a `str` (every machine reads that: the JSON API, SCIM, OpenAPI, the audit), and
    `translations`, locale → text, for the console (`webapp.i18n.translate` picks the reader's language)."""

    translations: dict[str, str]

    def __new__(cls, source: str, translations: dict[str, str] | None = None) -> Localized:
        self = super().__new__(cls, source)
        self.translations = dict(translations or {})
        return self

    def in_locale(self, locale: str) -> str:
        """The text in `locale` when it has a translation there, else the source text."""
        return self.translations.get(locale) or str(self)
