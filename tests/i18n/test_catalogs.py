"""The catalogs are complete (SPEC §22): every msgid the code marks is translated in German and Polish, none is
fuzzy or left over, the placeholders match; and the check that says so can fail."""

from __future__ import annotations

import shutil

import pytest
from babel.messages.catalog import Catalog

from webapp import catalogs


@pytest.fixture(scope="module")
def template() -> Catalog:
    return catalogs.extract()


def test_every_shipped_language_has_a_complete_catalog(template):
    assert catalogs.translated_locales() == ("de", "pl")
    found = catalogs.problems(template=template)
    assert not found, "\n".join(map(str, found))


def test_the_code_marks_messages_in_python_templates_and_emails(template):
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in template if message.id}
    assert "Skip to content" in ids  # a template


def copy_of_catalogs(tmp_path):
    root = tmp_path / "translations"
    shutil.copytree(catalogs.TRANSLATIONS, root, ignore=shutil.ignore_patterns("*.mo"))
    return root


def edit(root, tag, change):
    path = catalogs.po_path(tag, root)
    catalog = catalogs.read(path, tag)
    change(catalog)
    catalogs.write(catalog, path)


def test_the_check_finds_a_missing_an_untranslated_a_fuzzy_and_a_stale_entry(tmp_path, template):
    root = copy_of_catalogs(tmp_path)

    def damage_german(catalog):
        del catalog["Skip to content"]
        catalog["Log out"].string = ""
        catalog["Main"].flags.add("fuzzy")
        catalog.add("A sentence no code uses", "Ein Satz, den kein Code benutzt")

    edit(root, "de", damage_german)
    found = {(p.tag, p.msgid, p.what.split(" (")[0]) for p in catalogs.problems(root=root, template=template)}
    assert ("de", "Skip to content", "missing") in found
    assert ("de", "Log out", "untranslated") in found
    assert ("de", "Main", "fuzzy") in found
    assert ("de", "A sentence no code uses", "no longer used") in found
    assert not [item for item in found if item[0] == "pl"]


def test_the_check_finds_a_translation_whose_placeholders_differ(tmp_path, template):
    root = copy_of_catalogs(tmp_path)
    msgid = "Signed in as %(name)s"
    template.add(msgid, None, [("templates/x.html", 1)], flags=["python-format"])
    edit(root, "de", lambda catalog: catalog.add(msgid, "Angemeldet als %(nom)s", flags=["python-format"]))
    edit(root, "pl", lambda catalog: catalog.add(msgid, "Zalogowano jako %(name)s", flags=["python-format"]))
    try:
        found = [(p.tag, p.what.split(":")[0]) for p in catalogs.problems(root=root, template=template)]
    finally:
        del template[msgid]
    assert found == [("de", "placeholders")]


def test_a_msgid_used_in_code_but_absent_from_the_catalogs_fails(tmp_path, template):
    root = copy_of_catalogs(tmp_path)
    template.add("A new sentence in a template", None, [("templates/x.html", 1)])
    try:
        found = {(p.tag, p.msgid) for p in catalogs.problems(root=root, template=template)}
    finally:
        del template["A new sentence in a template"]
    assert found == {("de", "A new sentence in a template"), ("pl", "A new sentence in a template")}


def test_the_compiled_catalogs_are_made_from_the_po_files(tmp_path):
    root = copy_of_catalogs(tmp_path)
    written = catalogs.compile_catalogs(root=root)
    assert sorted(path.parent.parent.name for path in written) == ["de", "pl"]
    assert catalogs.compile_catalogs(root=root) == []  # up to date: nothing compiled again
