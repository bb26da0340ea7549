"""Every email, in every one of its variants, is written in German and Polish with no English sentence left over
(SPEC §22): the messages are rendered as the service renders them, and no line of the English message (but the
link) may come back unchanged in the other language."""

from __future__ import annotations

from datetime import datetime

import pytest

from webapp.sso.email.mail import Message, render, valid_for, when
from webapp.sso.kernel.texts import _t

LINK = "https://sso.example.com/account"
AT = datetime(2030, 1, 15, 9, 30)
COMMON = {"product": "Example Accounts", "username": "anna.k", "link": LINK}
LINKED = {"valid_for": valid_for(30), "expires_at": AT}

# Each message and each of its variants: (template, values).
VARIANTS = [
    ("password_reset", LINKED),
    ("signup_confirm", {"valid_for": valid_for(48 * 60), "expires_at": AT}),
    ("email_change", {"valid_for": valid_for(24 * 60), "expires_at": AT}),
    ("notify/password_changed", {"by_administrator": False, "at": AT}),
    ("notify/password_changed", {"by_administrator": True, "at": AT}),
    ("notify/email_changed", {"new_email": "anna@example.org", "at": AT}),
    ("notify/email_changed", {"new_email": None, "at": AT}),
    ("notify/two_factor_changed", {"on": True, "at": AT}),
    ("notify/two_factor_changed", {"on": False, "at": AT}),
    ("notify/passkey_changed", {"added": True, "passkey": "Work laptop", "at": AT}),
    ("notify/passkey_changed", {"added": False, "passkey": "Work laptop", "at": AT}),
    ("notify/new_sign_in", {"address": "203.0.113.9", "browser": "Firefox/140.0", "app": "CRM", "at": AT}),
    (
        "notify/new_sign_in",
        {"address": _t("an unknown address"), "browser": _t("an unknown browser or program"), "app": "", "at": AT},
    ),
    ("notify/lock_changed", {"locked": True, "at": AT}),
    ("notify/lock_changed", {"locked": False, "at": AT}),
    ("notify/deletion_scheduled", {"delete_at": datetime(2030, 2, 1, 12, 0), "cancel": True, "at": AT}),
    ("notify/deletion_scheduled", {"delete_at": datetime(2030, 2, 1, 12, 0), "cancel": False, "at": AT}),
]


def message(name: str, values: dict, locale: str) -> Message:
    return render(name, "anna@example.com", locale=locale, **COMMON, **values)


def sentences(text: str) -> set[str]:
    """The lines a person reads (not the link, not the signature's rule)."""
    return {line.strip() for line in text.splitlines() if line.strip() and LINK not in line and line.strip() != "--"}


def english_left(name: str, values: dict, locale: str) -> set[str]:
    english, other = message(name, values, "en"), message(name, values, locale)
    left = sentences(english.text) & sentences(other.text)
    if english.subject == other.subject:
        left.add(f"subject: {english.subject}")
    return left


@pytest.mark.parametrize("locale", ["de", "pl"])
@pytest.mark.parametrize(("name", "values"), VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_every_email_is_written_in_german_and_polish_with_no_english_line_left(name, values, locale):
    english_html = message(name, values, "en").html
    translated = message(name, values, locale)
    assert english_left(name, values, locale) == set()
    assert f'<html lang="{locale}">' in translated.html and translated.html != english_html


def test_the_check_finds_an_english_line_left():
    """A message left in English is found (every line of it), and so is an English value where the service must
    pass a translatable one (the unknown address as plain text)."""
    values = {"address": "an unknown address", "browser": "Firefox/140.0", "app": "", "at": AT}
    assert len(english_left("notify/lock_changed", {"locked": True, "at": AT}, "en")) >= 5
    assert "an unknown address" in message("notify/new_sign_in", values, "de").text
    translated = message("notify/new_sign_in", {**values, "address": _t("an unknown address")}, "de").text
    assert "einer unbekannten Adresse" in translated and "an unknown address" not in translated


def test_times_in_a_message_are_written_as_its_language_writes_them():
    values = {"delete_at": datetime(2030, 2, 1, 12, 0), "cancel": False, "at": AT}
    german = message("notify/deletion_scheduled", values, "de")
    polish = message("notify/deletion_scheduled", values, "pl")
    assert german.subject == f"Ihr Example Accounts-Konto wird am {when(datetime(2030, 2, 1, 12, 0), 'de')} gelöscht"
    assert "01.02.2030" in german.subject and "1 lut 2030" in polish.subject
    assert when(AT, "de") in german.text and "Jan" not in german.text
