"""The privacy pages (SPEC §20) in German and Polish carry no English (SPEC §22): Your data, Delete my account
and its refusals, the deletion-scheduled page, the keep-my-account page, Restore this value and its conflict
screen, Manage user's deletion notice and data download.

Two checks per page: the catalog's check of tests/web/test_languages_pages.py (no msgid shown untranslated),
and a stricter one that also finds text never marked for translation: no text of the English page may appear
unchanged in the German or Polish page, except the data it shows (names, addresses) and what the catalog
itself writes the same way in that language."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache

from sqlalchemy import insert, select

from webapp import catalogs
from webapp.db import reading, writing
from webapp.sso import Call
from webapp.sso.email import tokens
from webapp.sso.kernel.tables import email_tokens, passkeys, roles
from webapp.sso.kernel.texts import SOURCE_LOCALE
from webapp.sso.privacy.deletion import UNDELETE

from ..conftest import PASSWORD
from ..core.helpers import audit_of, frozen_clock
from .conftest import web_login
from .test_languages_pages import check_page, form_data, readable, render, sources  # noqa: F401 (a fixture)

WORDS = re.compile(r"[^\W\d_]{3,}")
LANGUAGES = tuple(catalogs.translated_locales())


@cache
def written_alike(tag: str) -> frozenset[str]:
    """The msgids a language's catalog writes exactly as English does."""
    catalog = catalogs.read(catalogs.po_path(tag), tag)
    return frozenset(m.id for m in catalog if isinstance(m.id, str) and m.id and m.string == m.id)


def same_text(english: list[str], shown: list[str], tag: str, keep: set[str]) -> set[str]:
    """The texts (with a word in them) of an English page that a `tag` page shows unchanged."""
    alike = written_alike(tag)
    return {
        text
        for text in set(shown) & set(english)
        if WORDS.search(text) and text.strip("()") not in keep and text not in alike
    }


def english_left(client, sources, path: str, keep: set[str], method: str = "get", data_for=None) -> set[str]:  # noqa: F811
    """Both checks on one page; what either finds, as `tag path: text` lines."""
    left = check_page(client, sources, path, method, data_for)
    english = readable(render(client, path, SOURCE_LOCALE, method, data_for() if data_for else None))
    for tag in LANGUAGES:
        shown = readable(render(client, path, tag, method, data_for() if data_for else None))
        left |= {f"{tag} {path}: {text!r}" for text in same_text(english, shown, tag, keep)}
    return left


# What the pages show that is nobody's language: names, addresses, application names (the test client's browser
# is "Werkzeug"), the language picker's autonyms, formats.
DATA = {
    *("alice", "alice@example.org", "bob", "bob@example.org", "root", "admin", "CRM", "Console", "Werkzeug"),
    *("English", "Deutsch", "polski", "JSON", "CSV", "UTC"),
}


def role_lines(sso) -> set[str]:
    """How Manage user's Roles card lists the roles: their names and descriptions, an administrator's data."""
    with reading(sso.ctx.engine) as conn:
        return {
            f"{name}: {description}" for name, description in conn.execute(select(roles.c.name, roles.c.description))
        }


def add_passkey(sso, user_id: str) -> None:
    with writing(sso.ctx.engine) as conn:
        conn.execute(
            insert(passkeys).values(
                passkey_id=f"pk-{user_id}",
                user_id=user_id,
                credential_id=f"cred-{user_id}",
                public_key=b"public-key-bytes",
                sign_count=0,
                transports=["internal"],
                aaguid="00000000-0000-0000-0000-000000000000",
                backup_eligible=False,
                backed_up=False,
                name="Laptop",
                creation_time=sso.ctx.clock(),
                last_use_time=None,
            )
        )


def test_the_stricter_check_finds_a_sentence_never_marked_for_translation():
    english = ["Deine Daten", "Download my data", "alice"]
    assert same_text(english, ["Download my data", "alice", "Meine Daten herunterladen"], "de", {"alice"}) == {
        "Download my data"
    }
    assert same_text(english, ["Meine Daten herunterladen", "alice"], "de", {"alice"}) == set()


def test_your_data_and_delete_my_account_with_their_refusals(sso, alice_client, admin_ust, sources):  # noqa: F811
    client, alice = alice_client
    sso.user.update_user_by_id("c", alice["user_id"], {"email": "alice@example.org"}, admin_ust, "CRM", "x")
    add_passkey(sso, alice["user_id"])  # the page offers "confirm with a passkey instead"
    keep = DATA | {"Laptop"}
    left = english_left(client, sources, "/account/privacy", keep)
    left |= english_left(client, sources, "/account", keep)

    def nothing_ticked():
        return form_data(client, "/account/privacy", "delete-form")

    def wrong_password():
        data = form_data(client, "/account/privacy", "delete-form", password="not it")
        return {**data, "confirm": "1"}

    left |= english_left(client, sources, "/account/delete", keep, "post", nothing_ticked)
    left |= english_left(client, sources, "/account/delete", keep, "post", wrong_password)
    clock = frozen_clock(sso)
    clock(minutes=30)  # an old sign-in: the download asks for the password (or the passkey) again

    def download():
        return form_data(client, "/account/privacy", "export-form")

    left |= english_left(client, sources, "/account/export", keep, "post", download)
    assert not left, "\n".join(sorted(left))


def test_the_deletion_scheduled_page_in_each_language(app, sso, make_user, admin_ust):
    """Each language's page from its own person (scheduling signs out): what the English one shows in words
    the German and Polish ones do not."""
    pages = {}
    for tag in (SOURCE_LOCALE, *LANGUAGES):
        user = make_user(f"leaving-{tag}")
        sso.user.update_user_by_id("c", user["user_id"], {"email": f"{tag}@example.org"}, admin_ust, "CRM", "x")
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = tag
        assert web_login(client, user["username"]).status_code == 303
        data = form_data(client, "/account/privacy", "delete-form", password=PASSWORD)
        answer = client.post("/account/delete", data={**data, "confirm": "1"})
        assert answer.status_code == 200 and 'id="deletion-scheduled-page"' in answer.get_data(as_text=True)
        pages[tag] = readable(answer.get_data(as_text=True))
    left = set()
    for tag in LANGUAGES:
        left |= same_text(pages[SOURCE_LOCALE], pages[tag], tag, DATA | {f"{tag}@example.org"})
    assert not left, left
    assert "Your account will be deleted" in " ".join(pages[SOURCE_LOCALE])


def test_the_keep_my_account_page_and_its_refusal(client, sso, make_user, login, sources):  # noqa: F811
    user = make_user("bob")
    root = sso.serve(Call("c", login(make_user("root", super_user=True)["username"]), "CRM", "x"))
    root.update_user(user["user_id"], {"email": "bob@example.org"})
    sso.user.schedule_deletion("c", PASSWORD, login("bob"), "CRM", "x")
    token, digest = tokens.new_token()  # a link of our own (the emailed one is only in the email)
    now = sso.ctx.clock()
    with writing(sso.ctx.engine) as conn:
        conn.execute(
            insert(email_tokens).values(
                token_hash=digest,
                purpose=UNDELETE,
                user_id=user["user_id"],
                creation_time=now,
                expiration_time=now + timedelta(days=1),
            )
        )
    path = f"/account/keep/{token}"
    left = english_left(client, sources, path, DATA)
    left |= english_left(client, sources, "/account/keep/not-a-link-we-sent", DATA)
    refused = render(client, "/account/keep/not-a-link-we-sent", SOURCE_LOCALE)
    assert "link to keep your account is not valid" in refused and "email change" not in refused

    def wrong_password():
        return form_data(client, path, "keep-form", password="not it")

    left |= english_left(client, sources, path, DATA, "post", wrong_password)
    assert not left, "\n".join(sorted(left))


def test_manage_user_with_a_scheduled_deletion_and_the_administrators_download(
    sso,
    admin_client,
    make_user,
    login,
    sources,  # noqa: F811
):
    client, _ = admin_client
    bob = make_user("bob")
    sso.user.schedule_deletion("c", PASSWORD, login("bob"), "CRM", "x")
    keep = DATA | role_lines(sso) | {bob["user_id"]}
    left = english_left(client, sources, f"/users/{bob['user_id']}", keep)
    left |= english_left(client, sources, "/users?deleting=yes", keep)
    clock = frozen_clock(sso)
    clock(minutes=30)

    def download():
        return form_data(client, f"/users/{bob['user_id']}", "user-export-form")

    left |= english_left(client, sources, f"/users/{bob['user_id']}/export", keep, "post", download)
    assert not left, "\n".join(sorted(left))


def test_restore_this_value_its_conflict_screen_and_the_restored_record(sso, alice_client, admin_ust, sources):  # noqa: F811
    client, alice = alice_client
    user_id = alice["user_id"]
    for name in ("Al", "Ally"):
        sso.user.update_user_by_id("c", user_id, {"first_name": name}, admin_ust, "CRM", "x")
    first, second = (r["id"] for r in audit_of(sso, user_id, "update")[-2:])
    sso.serve(Call("c", admin_ust, "CRM", "x")).restore_value(second, "first_name", user_id=user_id)
    sso.user.update_user_by_id("c", user_id, {"first_name": "Alfred"}, admin_ust, "CRM", "x")  # first: a conflict
    keep = DATA | {"Al", "Ally", "Alfred", "root"}
    left = english_left(client, sources, "/account/history", keep)

    def restore_first():
        return form_data(client, "/account/history", f"restore-form-{first}-first_name")

    left |= english_left(client, sources, "/account/restore", keep, "post", restore_first)
    assert not left, "\n".join(sorted(left))
