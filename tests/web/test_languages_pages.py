"""Every console page shown in German and Polish carries no English left over (SPEC §22).

For each page, the English source strings it shows are found by rendering it in English and keeping the
catalog's msgids that appear as a whole text (or, when long, anywhere in it); the same page in German and in
Polish must show none of them, except those a language writes the same way ("Status", "Version")."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from webapp import catalogs, create_app
from webapp.sso import Call
from webapp.sso.kernel.texts import SOURCE_LOCALE

from ..conftest import app_config
from .conftest import web_login
from .html_forms import form

ATTRIBUTES_READ = ("aria-label", "title", "placeholder", "alt")
LONG = 25  # a msgid this long is looked for anywhere in the text, shorter ones only as a whole text


class _Text(HTMLParser):
    """The text a person reads (or hears): text nodes and the labels in attributes; not scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ATTRIBUTES_READ and value:
                self.parts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def readable(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


@pytest.fixture(scope="module")
def sources() -> dict[str, dict[str, str]]:
    """msgid -> {tag: translation} for the plain msgids (no placeholders, no markup)."""
    plain: dict[str, dict[str, str]] = {}
    translated = {tag: catalogs.read(catalogs.po_path(tag), tag) for tag in catalogs.translated_locales()}
    for message in catalogs.extract():
        if not message.id or not isinstance(message.id, str) or "%(" in message.id or "<" in message.id:
            continue
        plain[message.id] = {tag: str(catalog[message.id].string) for tag, catalog in translated.items()}
    return plain


def english_strings_shown(parts: list[str], sources) -> set[str]:
    whole = set(parts)
    text = "\n".join(parts)
    return {msgid for msgid in sources if msgid in whole or (len(msgid) >= LONG and msgid in text)}


def render(client, path: str, tag: str, method: str = "get", data=None) -> str:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = tag
    response = client.open(path, method=method.upper(), data=data)
    assert response.status_code < 500, path
    return response.get_data(as_text=True)


def csrf(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


# Words of English sentences that German and Polish never write: a text shown unchanged in the other language
# and holding one of them is an English sentence nobody marked for translation (the catalogs cannot know it).
ENGLISH_WORDS = frozenset(
    """the and of is are be been its it this that these those with for your you were can cannot not has have from
    by must should would than then they their who what when which there here each every""".split()  # noqa: SIM905
)


def unmarked_english(english_parts: list[str], shown: set[str]) -> set[str]:
    """The texts of the English page shown unchanged in the other language that read as English sentences."""
    same = set(english_parts) & shown
    return {part for part in same if ENGLISH_WORDS.intersection(re.findall(r"\b[a-z]+\b", part.lower()))}


def check_page(client, sources, path: str, method: str = "get", data_for=None) -> set[str]:
    english = render(client, path, SOURCE_LOCALE, method, data_for() if data_for else None)
    english_parts = readable(english)
    wanted = english_strings_shown(english_parts, sources)
    assert wanted, f"{path}: no English source string found in the English page (the check would prove nothing)"
    left: set[str] = set()
    for tag in catalogs.translated_locales():
        shown = set(readable(render(client, path, tag, method, data_for() if data_for else None)))
        text = "\n".join(shown)
        left |= {
            f"{tag} {path}: not marked for translation: {part!r}" for part in unmarked_english(english_parts, shown)
        }
        written = {translations[tag] for translations in sources.values()}
        for msgid in wanted:
            if msgid in written:
                continue  # the language writes it (or another string: Polish "Role" is "Roles") the same way
            if msgid in shown or (len(msgid) >= LONG and msgid in text):
                left.add(f"{tag} {path}: {msgid!r}")
    return left


ANONYMOUS_PAGES = ("/login", "/password/forgot", "/password/forgot/sent", "/signup/sent")


def test_the_pages_before_signing_in_have_no_english_left_in_german_and_polish(client, sources):
    left = set()
    for path in ANONYMOUS_PAGES:
        left |= check_page(client, sources, path)
    assert not left, "\n".join(sorted(left))


def test_every_page_an_administrator_opens_has_no_english_left_in_german_and_polish(
    admin_client, make_user, sso, sources
):
    client, admin = admin_client
    bob = make_user("bob")
    sso.user.update_user_by_id(
        "cid", bob["user_id"], {"email": "bob@example.com"}, *_root(sso, make_user), channel="python"
    )
    sso.operator.create_scim_client("entra.prod", "user-admin")  # the API clients page shows its SCIM section
    pages = [
        "/account",
        "/account/password",
        "/account/two-factor",
        "/account/history",
        "/users",
        "/users?q=bo&locked=no",
        "/users/new",
        f"/users/{bob['user_id']}",
        f"/users/{bob['user_id']}/history",
        f"/users/{bob['user_id']}/confirm?action=lock",
        f"/users/{bob['user_id']}/confirm?action=reject",
        f"/users/{bob['user_id']}/confirm?action=delete",
        f"/users/{bob['user_id']}/confirm?action=nonsense",  # the unknown action's page
        f"/users/{admin['user_id']}",
        f"/users/{admin['user_id']}/confirm?action=delete",
        "/api-clients",
        "/outbox",
        "/users/zusrnosuchuser",
    ]
    left = set()
    for path in pages:
        left |= check_page(client, sources, path)

    def bulk_lock():
        return {"csrf_token": csrf(client, "/users"), "action": "lock", "user_id": [bob["user_id"]]}

    left |= check_page(client, sources, "/users/bulk", "post", bulk_lock)
    assert not left, "\n".join(sorted(left))


def _root(sso, make_user):
    make_user("root", super_user=True)
    ust = sso.user.login("cid", "root", "Correct-Horse-9", "CRM", "10.0.0.9").ust
    return ust, "CRM", "10.0.0.9"


def test_the_profile_fields_pages_have_no_english_left_in_german_and_polish(
    admin_client, sso, admin_ust, make_user, sources
):
    client, _admin = admin_client
    admin = sso.serve(Call("cid", admin_ust, "CRM", "::1"))
    admin.define_profile_field({"name": "desk", "label": "Desk", "type": "integer", "required": True})
    admin.define_profile_field({"name": "team", "label": "Team", "type": "choice", "options": ["red", "blue"]})
    admin.define_profile_field({"name": "room", "label": "Room", "type": "text", "max_length": 40})
    for name in ("bob", "cy"):
        user = make_user(name)
        sso.user.update_user_by_id("c", user["user_id"], {"desk": 1, "room": "Room 1234"}, admin_ust, "CRM", "::1")
    left = set()
    for path in ("/profile-fields", "/profile-fields/new", "/profile-fields/desk", "/profile-fields/team"):
        left |= check_page(client, sources, path)
    left |= check_page(client, sources, "/profile-fields/desk/delete")

    def bad_definition():
        return form_data(
            client, "/profile-fields/new", "profile-field-form", name="Bad Name", label="", max_length="many"
        )

    def bad_choice():
        sent = form_data(client, "/profile-fields/team", "profile-field-form", type="choices")
        return {**sent, "unique": "1"}  # no options either (the text area is not sent)

    def tightening():  # two users' values break it: the dry run, with its plural
        return form_data(client, "/profile-fields/room", "profile-field-form", max_length="3")

    def wrong_name():
        return {"csrf_token": csrf(client, "/profile-fields/desk/delete"), "confirm": "Desk"}

    left |= check_page(client, sources, "/profile-fields/new", "post", bad_definition)
    left |= check_page(client, sources, "/profile-fields/team", "post", bad_choice)
    left |= check_page(client, sources, "/profile-fields/room", "post", tightening)
    left |= check_page(client, sources, "/profile-fields/desk/delete", "post", wrong_name)
    assert not left, "\n".join(sorted(left))


def test_profile_field_value_errors_on_manage_user_have_no_english_left(admin_client, sso, admin_ust, sources):
    client, _admin = admin_client
    admin = sso.serve(Call("cid", admin_ust, "CRM", "::1"))
    admin.define_profile_field({"name": "desk", "label": "Desk", "type": "integer", "minimum": 1, "maximum": 99})
    admin.define_profile_field({"name": "site", "label": "Site", "type": "url"})
    admin.define_profile_field({"name": "phone", "label": "Phone", "type": "phone"})
    admin.define_profile_field({"name": "born", "label": "Born", "type": "date"})
    user_id = sso.operator.create_local("dora", None, super_user=False)["user_id"]
    path = f"/users/{user_id}"

    def bad_values():
        return form_data(client, path, "user-form", desk="100", site="ftp://x", phone="12", born="31.12.1990")

    english = render(client, path, SOURCE_LOCALE, "post", bad_values())
    assert "must be at most 99" in english and "must be an http or https address" in english
    assert not check_page(client, sources, path, "post", bad_values)
    admin.define_profile_field({"name": "badge", "label": "Badge", "type": "text", "required": True, "unique": True})

    def new_user_without_badge():
        return form_data(client, "/users/new", "create-form", username="erin", desk="zero")

    assert "is required" in render(client, "/users/new", SOURCE_LOCALE, "post", new_user_without_badge())
    assert not check_page(client, sources, "/users/new", "post", new_user_without_badge)
    polish = render(client, path, "pl", "post", bad_values())
    assert "może wynosić najwyżej 99" in polish and "musi być adresem http lub https" in polish


def test_the_roles_pages_and_a_help_desk_persons_pages_have_no_english_left(app, sso, make_user, sources):
    make_user("hilda")
    sso.operator.grant_role_local("hilda", "helpdesk")
    bob = make_user("bob")
    make_user("root", super_user=True)
    root = sso.user.login("c", "root", "Correct-Horse-9", "CRM", "::1").ust
    admin = sso.serve(Call("c", root, "CRM", "::1"))
    admin.define_profile_field({"name": "salary", "label": "Salary", "type": "integer"})  # help desk may not view
    admin.define_profile_field(
        {"name": "iban", "label": "IBAN", "type": "text", "sensitive": True, "view": ["helpdesk"]}
    )
    sso.user.update_user_by_id("c", bob["user_id"], {"salary": 5000, "iban": "DE00 1234"}, root, "CRM", "::1")
    helpdesk = app.test_client()
    assert web_login(helpdesk, "hilda").status_code == 303
    left = set()
    for path in ("/account", "/users", f"/users/{bob['user_id']}", f"/users/{bob['user_id']}/history"):
        left |= check_page(helpdesk, sources, path)
    left |= check_page(helpdesk, sources, f"/users/{bob['user_id']}/confirm?action=lock")
    make_user("boss", super_user=True)
    admin = app.test_client()
    assert web_login(admin, "boss").status_code == 303
    for path in ("/roles", "/roles/new", "/roles/helpdesk", "/roles/auditor"):
        left |= check_page(admin, sources, path)
    assert not left, "\n".join(sorted(left))


def test_a_regular_users_pages_have_no_english_left_in_german_and_polish(alice_client, sources):
    client, _ = alice_client
    left = set()
    for path in (
        "/account",
        "/account/password",
        "/account/two-factor",
        "/account/history",
        "/account/passkeys",
        "/logout",
    ):
        left |= check_page(client, sources, path)
    assert not left, "\n".join(sorted(left))


def test_the_check_finds_english_left_on_a_page(client, sources):
    english = render(client, "/login", SOURCE_LOCALE)
    wanted = english_strings_shown(readable(english), sources)
    assert {"Log in", "Forgot password?"} <= wanted
    german_page_with_leftover = render(client, "/login", "de").replace("Passwort vergessen?", "Forgot password?")
    shown = set(readable(german_page_with_leftover))
    assert "Forgot password?" in shown and "Log in" not in shown


def test_the_check_finds_an_english_sentence_nobody_marked_for_translation(admin_client, sso, admin_ust):
    client, _ = admin_client
    admin = sso.serve(Call("cid", admin_ust, "CRM", "::1"))
    admin.define_profile_field({"name": "desk", "label": "Desk", "type": "integer"})
    english = readable(render(client, "/profile-fields/desk", SOURCE_LOCALE))
    german = render(client, "/profile-fields/desk", "de")
    unmarked = german.replace("Was in den Formularen steht.", "What people read on the forms.")
    assert unmarked_english(english, set(readable(german))) == set()
    assert unmarked_english(english, set(readable(unmarked))) == {"What people read on the forms."}
    data = {"desk", "Desk", "bob", "10.0.0.9", "zusrdljnpgyux6ldur74p2ybf3of"}  # an id holds "of": not a word
    assert unmarked_english(list(data), data) == set()


def test_the_sign_up_page_has_no_english_left_in_german_and_polish(db_url, sources):
    app = create_app(app_config(db_url, SSO_SIGNUP_APPS=["Console"]))
    try:
        left = check_page(app.test_client(), sources, "/signup")
    finally:
        app.extensions["sso_engine"].dispose()
    assert not left, "\n".join(sorted(left))


def form_data(client, path: str, form_id: str, **values: str) -> dict:
    """A form of `path` as a browser would send it, with `values` typed in (a fresh CSRF token each time)."""
    page = form(client, path, form_id)
    for name, value in values.items():
        page.fill(name, value)
    return dict(page.data())


def test_the_pages_after_a_step_have_no_english_left_in_german_and_polish(client, make_user, sso, admin_ust, sources):
    changing = make_user("changing")
    coded = make_user("coded")
    sso.user.update_user_by_id("c", changing["user_id"], {"password_must_change": True}, admin_ust, "CRM", "::1")
    sso.user.update_user_by_id(
        "c",
        coded["user_id"],
        {"totp_key": "JBSWY3DPEHPK3PXPJBSWY3DP", "is_totp_enabled": True},
        admin_ust,
        "CRM",
        "::1",
    )
    left = set()
    for path in ("/password/reset/no-such-token", "/signup/confirm/no-such-token"):
        left |= check_page(client, sources, path)
    for name in ("changing", "coded", "nobody"):

        def login(name=name):
            return form_data(client, "/login", "login-form", username=name, password="Correct-Horse-9")

        left |= check_page(client, sources, "/login", "post", login)
    assert not left, "\n".join(sorted(left))


def test_a_refused_save_and_a_bulk_result_have_no_english_left_in_german_and_polish(admin_client, make_user, sources):
    client, _ = admin_client
    bob = make_user("bob")

    def bad_email():
        return form_data(client, "/account", "account-form", email="not an email", display_name="x" * 300)

    def bulk_approve():
        return {"csrf_token": csrf(client, "/users"), "action": "approve", "user_id": [bob["user_id"], "zusrnobody"]}

    left = check_page(client, sources, "/account", "post", bad_email)
    left |= check_page(client, sources, "/users/bulk", "post", bulk_approve)
    assert not left, "\n".join(sorted(left))
