"""SPEC §16, §22: a profile field's label and description are read in the reader's language where a translation
exists (Manage user, My account, the user list, the Profile fields page), as written elsewhere."""

from __future__ import annotations

import pytest

from webapp.sso import Call

from .html_forms import form, forms, text

CID, APP, ADDR = "cid", "CRM", "::1"
GERMAN = {"Accept-Language": "de"}
POLISH = {"Accept-Language": "pl"}


@pytest.fixture
def defined(sso, admin_ust):
    admin = sso.serve(Call(CID, admin_ust, APP, ADDR))
    admin.define_profile_field(
        {
            "name": "department",
            "label": "Department",
            "description": "Where you work.",
            "type": "text",
            "searchable": True,
            "list_column": True,
            "translations": {"de": {"label": "Abteilung", "description": "Wo Sie arbeiten."}},
        }
    )
    return admin


def test_manage_user_reads_the_label_and_description_in_the_readers_language(
    admin_client, make_user, defined, sso, admin_ust
):
    client, _ = admin_client
    alice = make_user("alice")
    sso.user.update_user_by_id(CID, alice["user_id"], {"department": "Ops"}, admin_ust, APP, ADDR)
    german = text(client.get(f"/users/{alice['user_id']}", headers=GERMAN))
    assert ">Abteilung<" in german and "Wo Sie arbeiten." in german
    assert ">Department<" not in german and "Where you work." not in german
    assert '<span class="attr">Abteilung</span>:' in german  # the history's old → new
    english = text(client.get(f"/users/{alice['user_id']}"))
    assert ">Department<" in english and "Where you work." in english
    assert "Abteilung" not in english and "Wo Sie arbeiten" not in english
    polish = text(client.get(f"/users/{alice['user_id']}", headers=POLISH))  # no Polish: as written
    assert ">Department<" in polish and "Abteilung" not in polish


def test_my_account_follows_the_persons_own_language(alice_client, defined, sso, admin_ust):
    client, alice = alice_client
    german = text(client.get("/account", headers=GERMAN))
    assert ">Abteilung<" in german and "Wo Sie arbeiten." in german and ">Department<" not in german
    english = text(client.get("/account"))
    assert ">Department<" in english and "Abteilung" not in english
    sso.user.update_user_by_id(CID, alice["user_id"], {"locale": "de"}, admin_ust, APP, ADDR)
    own = text(client.get("/account", headers={"Accept-Language": "en"}))  # the person's locale wins
    assert ">Abteilung<" in own and ">Department<" not in own


def test_the_user_list_and_the_profile_fields_page_read_it_in_german(admin_client, defined):
    client, _ = admin_client
    users_page = text(client.get("/users", headers=GERMAN))
    assert '<label for="pf_department">Abteilung</label>' in users_page
    assert 'id="sort-department">Abteilung' in users_page
    english = text(client.get("/users"))
    assert '<label for="pf_department">Department</label>' in english
    fields_page = text(client.get("/profile-fields", headers=GERMAN))
    assert "<td>Abteilung" in fields_page and "<td>Department" not in fields_page


def test_the_edit_page_takes_german_and_polish_and_names_a_bad_one(admin_client, defined, sso):
    client, _ = admin_client
    edit = form(client, "/profile-fields/department", "profile-field-form")
    assert edit.value("translations.de.label") == "Abteilung" and edit.value("translations.pl.label") == ""
    german = text(client.get("/profile-fields/department", headers=GERMAN))
    assert "In anderen Sprachen" in german and "<legend>polski</legend>" in german
    edit.fill("translations.pl.label", "x" * 257).fill("translations.pl.description", "Gdzie pracujesz.")
    answer = edit.submit(client)
    html = text(answer)
    assert (
        answer.status_code == 422 and 'id="f-translations-pl-label-error" lang="en">must be text of at most 256' in html
    )
    again = forms(html)["profile-field-form"]  # what was typed is kept
    assert again.value("translations.pl.description") == "Gdzie pracujesz."
    again.fill("translations.pl.label", "Dział").fill("translations.de.description", "")
    assert again.submit(client).status_code == 303
    saved = sso.operator.export_profile_schema()[0]["translations"]
    assert saved == {"de": {"label": "Abteilung"}, "pl": {"label": "Dział", "description": "Gdzie pracujesz."}}


def test_machines_read_the_source_text_whatever_the_language(client, defined):
    document = client.get("/zato/sso/openapi.json", headers=GERMAN).get_data(as_text=True)
    assert "profile field: Department (Where you work.)" in document and "Abteilung" not in document
