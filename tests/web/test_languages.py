"""The language a page is shown in (SPEC §22): Accept-Language, then SSO_DEFAULT_LOCALE; `<html lang>` follows;
a crafted Accept-Language header is never a server error."""

from __future__ import annotations

import pytest

from webapp import create_app

from ..conftest import app_config


def lang_of(html: str) -> str:
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("header", "lang", "skip_link"),
    [
        (None, "en", "Skip to content"),
        ("de-DE,de;q=0.9,en;q=0.5", "de", "Zum Inhalt springen"),
        ("pl", "pl", "Przejdź do treści"),
        ("fr-FR,pl;q=0.3,de;q=0.2", "pl", "Przejdź do treści"),
        ("fr, ja", "en", "Skip to content"),
    ],
)
def test_the_login_page_speaks_the_browsers_language(client, header, lang, skip_link):
    headers = {"Accept-Language": header} if header else {}
    html = client.get("/login", headers=headers).get_data(as_text=True)
    assert lang_of(html) == lang
    assert skip_link in html


def test_without_a_language_the_browser_accepts_the_default_locale_is_used(db_url):
    app = create_app(app_config(db_url, SSO_DEFAULT_LOCALE="de"))
    try:
        html = app.test_client().get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    finally:
        app.extensions["sso_engine"].dispose()
    assert lang_of(html) == "de"


@pytest.mark.parametrize(
    "header",
    [
        "x" * 6000,
        "de;q=5, pl;q=-1, en;q=nan",
        "de;q=1e999",
        ";;;,,,=;q=",
        "de-" + "a" * 300,
        "*;q=0.1, \x7f\x01",
        "pl;q=0.5;q=0.9;level=1",
        "ünïcödé, 中文",
    ],
)
def test_a_crafted_accept_language_is_never_a_server_error(client, header):
    response = client.get("/login", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert lang_of(response.get_data(as_text=True)) in ("en", "de", "pl")


def test_a_default_locale_that_is_not_shipped_stops_the_start(db_url):
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match="SSO_DEFAULT_LOCALE must be one of en, de, pl, got 'fr'"):
        create_app(app_config(db_url, SSO_DEFAULT_LOCALE="fr"))
