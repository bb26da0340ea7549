"""SPEC §16, §22: a profile field's label and description per language, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from webapp.sso import Call, Code, Kind
from webapp.sso.kernel.texts import Localized

from .helpers import ADDR, APP, CID, audit_of, refused

GERMAN = {"de": {"label": "Abteilung", "description": "Wo Sie arbeiten"}}


@pytest.fixture
def admin_service(sso, admin):
    return sso.serve(Call(CID, admin[1], APP, ADDR))


def test_translations_are_checked_all_at_once_each_error_naming_its_place(sso, admin_service):
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field(
            {
                "name": "department",
                "label": "",
                "type": "text",
                "translations": {
                    "de": {"label": "x" * 257, "title": "Titel", "description": "d" * 1025},
                    "fr": {"label": "Service"},
                    "en": {"label": "Department"},
                    "pl": "Dział",
                },
            }
        )
    assert set(info.value.errors) == {
        "label",
        "translations.de.label",
        "translations.de.title",
        "translations.de.description",
        "translations.fr",
        "translations.en",
        "translations.pl",
    }
    assert "256" in info.value.errors["translations.de.label"]
    with refused(Kind.invalid, Code.invalid_input) as info:
        admin_service.define_profile_field({"name": "desk", "label": "Desk", "type": "text", "translations": ["de"]})
    assert set(info.value.errors) == {"translations"}
    assert sso.operator.export_profile_schema() == []


def test_a_field_carries_its_translations_and_empty_ones_are_dropped(admin_service):
    made = admin_service.define_profile_field(
        {
            "name": "department",
            "label": "Department",
            "description": "Where you work",
            "type": "text",
            "translations": {**GERMAN, "pl": {"label": "", "description": ""}},
        }
    )
    assert made.translations == GERMAN and made.definition()["translations"] == GERMAN
    assert isinstance(made.label, Localized) and made.label == "Department"
    assert made.label.in_locale("de") == "Abteilung" and made.label.in_locale("pl") == "Department"
    assert made.description.in_locale("de") == "Wo Sie arbeiten"
    again = admin_service.change_profile_field("department", {"translations": None})
    assert again.translations is None and again.label.in_locale("de") == "Department"


def test_a_change_of_translations_is_audited_old_to_new(sso, admin_service):
    admin_service.define_profile_field({"name": "department", "label": "Department", "type": "text"})
    admin_service.change_profile_field("department", {"translations": GERMAN})
    polish = {**GERMAN, "pl": {"label": "Dział"}}
    admin_service.change_profile_field("department", {"translations": polish})
    records = audit_of(sso, "profile-schema")
    assert records[-2]["changes"] == {"department.translations": {"old": None, "new": GERMAN}}
    assert records[-1]["changes"] == {"department.translations": {"old": GERMAN, "new": polish}}


def test_export_and_import_carry_translations_idempotently(sso, admin_service):
    admin_service.define_profile_field({"name": "department", "label": "Department", "type": "text"})
    exported = sso.operator.export_profile_schema()
    assert exported[0]["translations"] is None
    exported[0]["translations"] = GERMAN
    diff = sso.operator.import_profile_schema(exported)
    assert diff == [f"~ department.translations: None -> {GERMAN!r}"]
    assert sso.operator.import_profile_schema(exported) == []
    assert sso.operator.export_profile_schema() == exported
    older = [{key: value for key, value in exported[0].items() if key != "translations"}]
    assert sso.operator.import_profile_schema(older) == []  # a file without the key keeps them
