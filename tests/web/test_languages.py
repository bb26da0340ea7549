"""The language a page is shown in (SPEC §22): the person's `locale`, the footer picker, Accept-Language, then
SSO_DEFAULT_LOCALE; `<html lang>` follows; a crafted Accept-Language is never a server error; plurals; emails in
the recipient's language; the JSON API stays English."""

from __future__ import annotations

import pytest

from webapp import create_app

from ..conftest import FAST_WORKER, PASSWORD, app_config, delivering
from ..mailbox import text_of
from .conftest import web_login
from .html_forms import form


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


# --- the person's own language, and the footer picker -------------------------------------------------------


def test_a_signed_in_persons_locale_wins_over_the_browsers_language(alice_client, sso, login):
    client, _ = alice_client
    sso.user.update_current_user("cid", {"locale": "pl"}, login("alice"), "CRM", "127.0.0.1")
    html = client.get("/account", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert lang_of(html) == "pl" and "Moje konto" in html
    sso.user.update_current_user("cid", {"locale": None}, login("alice"), "CRM", "127.0.0.1")
    html = client.get("/account", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert lang_of(html) == "de" and "Mein Konto" in html


def test_the_footer_picker_keeps_the_choice_of_someone_not_signed_in(client):
    picker = form(client, "/login?next=/account", "language-form").fill("locale", "pl")
    answer = picker.submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=/account"
    html = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert lang_of(html) == "pl" and "Zaloguj się" in html


def test_the_footer_picker_saves_the_locale_of_a_signed_in_person_audited(alice_client, sso, login):
    client, alice = alice_client
    answer = form(client, "/account", "language-form").fill("locale", "de").submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    me = sso.user.get_current_user("cid", login("alice"), "CRM", "127.0.0.1")
    assert me["locale"] == "de"
    changes = [r["changes"] for r in sso.user.history("cid", alice["user_id"], login("alice"), "CRM", "127.0.0.1")]
    assert {"locale": {"old": None, "new": "de"}} in changes
    html = client.get("/account", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert lang_of(html) == "de" and 'id="f-locale"' in html and "Deutsch" in html


@pytest.mark.parametrize("value", ["fr", "", "<script>", "x" * 5000])
def test_the_footer_picker_refuses_a_language_it_does_not_offer(client, value):
    answer = form(client, "/login", "language-form").fill("locale", value).submit(client)
    assert answer.status_code == 400
    assert "is not one of the offered languages: en, de, pl" in answer.get_data(as_text=True)


def test_my_account_sets_and_clears_the_language_with_the_clear_checkbox(alice_client, sso, login):
    client, _ = alice_client
    saved = form(client, "/account", "account-form").fill("locale", "pl").submit(client)
    assert saved.status_code == 303
    assert sso.user.get_current_user("cid", login("alice"), "CRM", "127.0.0.1")["locale"] == "pl"
    cleared = form(client, "/account", "account-form").fill("locale", "").check("clear_locale")
    assert cleared.submit(client).status_code == 303
    assert sso.user.get_current_user("cid", login("alice"), "CRM", "127.0.0.1")["locale"] is None


# --- plurals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "polish", "german"),
    [
        (1, "Wylogowano 1 sesję.", "1 Sitzung abgemeldet."),
        (2, "Wylogowano 2 sesje.", "2 Sitzungen abgemeldet."),
        (5, "Wylogowano 5 sesji.", "5 Sitzungen abgemeldet."),
        (22, "Wylogowano 22 sesje.", "22 Sitzungen abgemeldet."),
    ],
)
def test_plurals_take_each_languages_forms(app, count, polish, german):
    from webapp.i18n import ngettext, translate
    from webapp.sso.kernel.errors import paused_message

    minutes = {1: "minutę", 2: "minuty", 5: "minut", 22: "minuty"}[count]
    with app.test_request_context(headers={"Accept-Language": "pl"}):
        assert ngettext("Signed out %(num)d session.", "Signed out %(num)d sessions.", count) == polish
        assert translate(paused_message(count * 60)) == f"logowanie wstrzymane, spróbuj ponownie za {count} {minutes}"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert ngettext("Signed out %(num)d session.", "Signed out %(num)d sessions.", count) == german


def test_a_requests_translations_are_looked_up_once_and_follow_a_change_of_language(app, monkeypatch):
    """webapp.i18n keeps the request's translations (issue 30) for as long as its locale stays: once per request,
    not once per string; `force_locale` (an email in its recipient's language) and `refresh()` (a language just
    picked) are followed, in templates and in Python alike."""
    import flask_babel
    from flask import render_template_string

    from webapp import i18n

    looked_up = []
    original = i18n.get_translations

    def counted():
        looked_up.append(1)
        return original()

    monkeypatch.setattr(i18n, "get_translations", counted)
    page = "{{ _('Skip to content') }}|{{ ngettext('Signed out %(num)d session.', 'Signed out %(num)d sessions.', 5) }}"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert render_template_string(page) == "Zum Inhalt springen|5 Sitzungen abgemeldet."
        assert i18n.gettext("Skip to content") == "Zum Inhalt springen"
        assert len(looked_up) == 1
        with flask_babel.force_locale("pl"):
            assert render_template_string(page) == "Przejdź do treści|Wylogowano 5 sesji."
            assert i18n.ngettext("Signed out %(num)d session.", "Signed out %(num)d sessions.", 2) == (
                "Wylogowano 2 sesje."
            )
        assert i18n.gettext("Skip to content") == "Zum Inhalt springen"
        session_locale = flask_babel.get_babel().locale_selector
        monkeypatch.setattr(flask_babel.get_babel(), "locale_selector", lambda: "pl")
        flask_babel.refresh()
        assert i18n.gettext("Skip to content") == "Przejdź do treści"
        monkeypatch.setattr(flask_babel.get_babel(), "locale_selector", session_locale)
    assert i18n.gettext("Skip to content") == "Skip to content"  # outside a request: the source text
    lazy = i18n.lazy_gettext("Skip to content")
    plural = i18n.lazy_ngettext("Signed out %(num)d session.", "Signed out %(num)d sessions.", 2)
    looked_up.clear()
    for language, skip, signed_out in (("de", "Zum Inhalt springen", "2 Sitzungen abgemeldet."), ("pl", *POLISH)):
        with app.test_request_context(headers={"Accept-Language": language}):
            assert [str(lazy), str(lazy), str(plural)] == [skip, skip, signed_out]
    assert len(looked_up) == 2  # a lazy string is shown through the request's kept translations too


POLISH = ("Przejdź do treści", "Wylogowano 2 sesje.")


@pytest.mark.parametrize(
    ("count", "polish", "german"),
    [
        (1, "1 użytkownik ma wartość, której", "1 Benutzer hat einen Wert"),
        (2, "2 użytkowników ma wartości, których", "2 Benutzer haben einen Wert"),
        (5, "5 użytkowników ma wartości, których", "5 Benutzer haben einen Wert"),
        (22, "22 użytkowników ma wartości, których", "22 Benutzer haben einen Wert"),
    ],
)
def test_a_profile_field_dry_runs_count_takes_each_languages_forms(app, count, polish, german):
    """The service's refusal of a change stored values break (a plural _nt), as the console shows it."""
    from webapp.i18n import translate
    from webapp.sso.accounts.profile_schema import DryRun, _refusal

    refusal = _refusal(DryRun(count, "zusrx", "bob", clearable=True))
    assert refusal.startswith(f"{count} user") and "(the first: bob)" in refusal  # English to a program
    with app.test_request_context(headers={"Accept-Language": "pl"}):
        shown = translate(refusal) or ""
        assert shown.startswith(polish) and "(pierwszy: bob)" in shown
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert (translate(refusal) or "").startswith(german)


@pytest.mark.parametrize(
    ("count", "english", "polish"),
    [
        (1, "must be at most 1 character", "może mieć najwyżej 1 znak"),
        (4, "must be at most 4 characters", "może mieć najwyżej 4 znaki"),
        (5, "must be at most 5 characters", "może mieć najwyżej 5 znaków"),
        (22, "must be at most 22 characters", "może mieć najwyżej 22 znaki"),
        (254, "must be at most 254 characters", "może mieć najwyżej 254 znaki"),  # the email address's limit
    ],
)
def test_a_length_limit_takes_each_languages_plural(app, count, english, polish):
    """A profile field's own max_length can be any number: Polish needs the form of each (it was 'znaków' always)."""
    from webapp.i18n import translate
    from webapp.sso.kernel.profile_fields import ProfileField, check_field_value

    field = ProfileField(1, "code", "Code", "text", max_length=count)
    message = check_field_value(field, "x" * (count + 1))[1]
    assert message == english  # a program reads English
    with app.test_request_context(headers={"Accept-Language": "pl"}):
        assert translate(message) == polish
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert translate(message) == f"darf höchstens {count} Zeichen lang sein"


# --- emails in the recipient's language ----------------------------------------------------------------------


@pytest.fixture
def mail_app(db_url, mailbox):
    application = create_app(
        app_config(
            db_url,
            SSO_SMTP_URL=mailbox.url,
            SSO_SIGNUP_APPS=["Console"],
            SSO_SIGNUP_APPROVAL_NEEDED=False,
            **FAST_WORKER,
        )
    )
    with delivering(application.extensions["sso"].ctx):  # the outbox's worker sends what the pages queue
        yield application
    application.extensions["sso_engine"].dispose()


def test_a_reset_email_goes_out_in_the_recipients_language_whatever_the_page(mail_app, mailbox):
    sso = mail_app.extensions["sso"]
    client = mail_app.test_client()
    sso.operator.create_local("marta", PASSWORD, super_user=False)
    ust = sso.user.login("cid", "marta", PASSWORD, "CRM", "127.0.0.1").ust
    sso.user.update_current_user("cid", {"email": "marta@example.com", "locale": "pl"}, ust, "CRM", "127.0.0.1")

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"  # the page is German, the recipient reads Polish
    answer = form(client, "/password/forgot", "forgot-form").fill("credential", "marta").submit(client)
    assert answer.status_code == 303
    message = mailbox.for_("marta@example.com")
    assert message["Subject"] == "Zresetuj hasło w SSO"
    body = text_of(message)
    assert "Ktoś poprosił o zresetowanie hasła do Twojego konta w SSO (nazwa użytkownika marta)" in body
    assert "(ważny przez 24 godziny)" in body
    html = message.get_body(("html",)).get_content()
    assert '<html lang="pl">' in html and "Jeśli przycisk nie działa" in html
    assert "Reset your" not in body and "If it was not you" not in html


def test_an_administrators_page_language_is_not_the_recipients(mail_app, mailbox):
    """A German administrator locks an account with no language of its own: the notice goes out in
    SSO_DEFAULT_LOCALE (English here), not in the administrator's German; the owner's own change from a German
    page is told in German."""
    sso = mail_app.extensions["sso"]
    sso.operator.create_local("greta", PASSWORD, super_user=True)
    sam = sso.operator.create_local("sam", PASSWORD, super_user=False)
    ust = sso.user.login("cid", "greta", PASSWORD, "CRM", "127.0.0.1").ust
    sso.user.update_user_by_id("cid", sam["user_id"], {"email": "sam@example.com"}, ust, "CRM", "127.0.0.1")
    admin = mail_app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert web_login(admin, "greta").status_code == 303
    assert form(admin, f"/users/{sam['user_id']}/confirm?action=lock", "lock-form").submit(admin).status_code == 303
    assert mailbox.for_("sam@example.com")["Subject"] == "Your SSO account was locked"

    sso.user.unlock_user("cid", sam["user_id"], ust, "CRM", "127.0.0.1")
    owner = mail_app.test_client()
    owner.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert web_login(owner, "sam").status_code == 303
    change = form(owner, "/account/password", "password-form")
    change.fill("old_password", PASSWORD).fill("new_password", "Brand-New-Horse-31")
    change.fill("confirm_password", "Brand-New-Horse-31")
    assert change.submit(owner).status_code == 303
    assert mailbox.for_("sam@example.com", count=3)["Subject"] == "Ihr SSO-Passwort wurde geändert"  # after unlocked


def test_a_sign_up_email_goes_out_in_the_language_of_the_page_it_was_asked_from(mail_app, mailbox):
    client = mail_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-AT,de;q=0.9"
    signup = form(client, "/signup", "signup-form")
    signup.fill("username", "jonas").fill("email", "jonas@example.com")
    signup.fill("password", PASSWORD).fill("confirm_password", PASSWORD)
    assert signup.submit(client).status_code == 303
    message = mailbox.for_("jonas@example.com")
    assert message["Subject"] == "Bestätigen Sie Ihr SSO-Konto"
    assert "(Gültigkeitsdauer: 2 Tage)" in text_of(message)  # a lifetime stands where its grammar holds
    assert web_login(client, "jonas").status_code in (303, 401)


def test_the_json_api_reads_and_patches_locale_and_answers_errors_in_english(client, make_user, login):
    make_user("alice")
    ust = login("alice", app_name="CRM")
    body = {"ust": ust, "current_app": "CRM"}
    patched = client.patch("/zato/sso/user", json={**body, "locale": "pl"}, headers={"Accept-Language": "pl"})
    assert patched.status_code == 200, patched.get_json()
    got = client.open("/zato/sso/user", method="GET", json=body).get_json()
    assert got["locale"] == "pl"
    refused = client.patch("/zato/sso/user", json={**body, "locale": "fr"}, headers={"Accept-Language": "pl"})
    answer = refused.get_json()
    assert refused.status_code == 422 and answer["sub_status"] == ["E008002"]
    assert answer["errors"] == {"locale": "must be one of the offered languages: en, de, pl"}  # English, always


def test_the_services_messages_are_shown_translated_in_the_console(alice_client):
    client, _ = alice_client
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pl"
    change = form(client, "/account/password", "password-form").fill("old_password", PASSWORD)
    change.fill("new_password", "short").fill("confirm_password", "short")
    refused = change.submit(client)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "musi mieć co najmniej 8 znaków" in html and "must be at least" not in html

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    saved = form(client, "/account", "account-form").fill("email", "not an email").submit(client)
    assert saved.status_code == 422
    html = saved.get_data(as_text=True)
    assert "muss eine gültige E-Mail-Adresse sein (zum Entfernen das Feld leeren)" in html
    assert "must be a valid email" not in html


@pytest.mark.parametrize(
    "method, path, status, words",
    [
        ("GET", "/no/such/page", 404, "Nicht gefunden"),
        ("DELETE", "/login", 405, "Hier nicht erlaubt"),
        ("PUT", "/account", 405, "Hier nicht erlaubt"),
    ],
)
def test_an_address_or_method_no_route_takes_gets_the_consoles_page_in_the_readers_language(
    client, method, path, status, words
):
    """Routing's own 404 and 405 come before any blueprint: they were Werkzeug's bare English pages."""
    response = client.open(path, method=method, headers={"Accept-Language": "de"})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert words in page and 'lang="de"' in page and "Werkzeug" not in page and "<title>40" not in page


def test_scim_keeps_its_own_error_shape_for_an_address_it_does_not_have(client):
    response = client.get("/scim/v2/NoSuchResource")
    assert response.status_code == 404 and response.mimetype == "application/scim+json"
    assert response.get_json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_the_consoles_busy_database_page_is_in_the_readers_language(app):
    from webapp.db import DatabaseUnavailable
    from webapp.http_hardening import unavailable_page

    with app.test_request_context("/account", headers={"Accept-Language": "pl"}):
        response = unavailable_page(DatabaseUnavailable(7, "OperationalError"))
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert "Usługa chwilowo niedostępna" in page and "za 7 s" in page


@pytest.mark.parametrize("lang, shown", [("en", "2026-12-21 08:23:22 UTC"), ("de", "21.12.2026, 08:23:22 UTC")])
def test_a_time_the_audit_keeps_outside_the_attributes_reads_as_a_time(app, lang, shown):
    """deletion_time (a scheduled deletion's due time) showed raw ISO text with microseconds in the history."""
    from webapp.web.display import format_value, is_time

    stored = "2026-12-21T08:23:22.663580+00:00"
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert format_value(stored, "deletion_time") == shown and is_time(stored, "deletion_time")
        assert format_value("2026-12-21", "display_name") == "2026-12-21"  # an attribute's text stays text
