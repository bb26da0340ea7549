"""The translation catalogs (SPEC §22): extract the messages from the code, update, check and compile them.

Not used while serving: `scripts/translations.py` runs it (the bootstrap compiles, `make lint` checks) and
the catalog tests call `problems()`. The source language is English; every other shipped language
(`LOCALES`) has `webapp/translations/<tag>/LC_MESSAGES/messages.po`, kept sorted by msgid and without
source locations so that a moved line changes no catalog (and merges stay small). The compiled `.mo`
files beside them are not committed: the bootstrap makes them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .sso.kernel.texts import LOCALES, SOURCE_LOCALE

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "babel.cfg"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
# Flask-Babel's lazy forms, and the service's markers (webapp.sso.kernel.texts), beside gettext's usual names.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "_t": None,
    "_nt": (1, 2),
    "Nn_": (1, 2),  # webapp.i18n: a plural pair marked where it is written
}
SEARCHED = ("webapp", "templates")  # the folders babel.cfg's patterns point into
TRANSLATOR_TAG = "Translators:"


def translated_locales() -> tuple[str, ...]:
    """The shipped languages that have a catalog (all but the source)."""
    return tuple(tag for tag in LOCALES if tag != SOURCE_LOCALE)


def po_path(tag: str, root: Path = TRANSLATIONS) -> Path:
    return root / tag.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


def _searched(path: str) -> bool:
    relative = os.path.relpath(path, ROOT)
    top = relative.split(os.sep)[0]
    return relative == "." or (top in SEARCHED and "__pycache__" not in relative)


def extract() -> Catalog:
    """Every message the code and templates mark for translation (a template catalog, msgstr empty)."""
    with CONFIG.open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(CONFIG))
    template = Catalog(project="sso-accounts", fuzzy=False)
    found = extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=(TRANSLATOR_TAG,),
        strip_comment_tags=True,
        directory_filter=_searched,
    )
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(path: Path, tag: str) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=tag.replace("-", "_"), domain=DOMAIN)


def write(catalog: Catalog, path: Path) -> None:
    """The catalog as a .po file: sorted by msgid, no locations, no obsolete entries."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, no_location=True, sort_output=True, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def update(tags: Iterable[str] | None = None) -> list[Path]:
    """Bring each catalog in step with the code: new msgids added untranslated, gone ones dropped
    (a changed msgid is offered as a fuzzy guess, which the check refuses until a person reviews it)."""
    template = extract()
    written = []
    for tag in tags or translated_locales():
        path = po_path(tag)
        if path.exists():
            catalog = read(path, tag)
        else:
            catalog = Catalog(locale=tag.replace("-", "_"), domain=DOMAIN, project="sso-accounts", fuzzy=False)
        catalog.update(template, update_header_comment=False, update_creation_date=False)
        catalog.obsolete.clear()
        write(catalog, path)
        written.append(path)
    return written


@dataclass(frozen=True)
class Problem:
    tag: str
    msgid: str
    what: str

    def __str__(self) -> str:
        return f"{self.tag}: {self.what}: {self.msgid!r}"


def _ids(catalog: Catalog) -> dict[object, Message]:
    return {message.id: message for message in catalog if message.id}


def problems(
    tags: Iterable[str] | None = None, root: Path = TRANSLATIONS, template: Catalog | None = None
) -> list[Problem]:
    """What keeps the catalogs from being complete: a msgid of the code missing from a catalog, an entry
    untranslated (any plural form empty) or fuzzy, a placeholder the translation does not match, an entry no
    code uses any more. Empty when every shipped language is complete."""
    template = template if template is not None else extract()
    wanted = _ids(template)
    found: list[Problem] = []
    for tag in tags or translated_locales():
        path = po_path(tag, root)
        if not path.exists():
            found.append(Problem(tag, str(path), "no catalog"))
            continue
        catalog = read(path, tag)
        have = _ids(catalog)
        for key in wanted:
            if key not in have:
                found.append(Problem(tag, _text(key), "missing (run scripts/translations.py update)"))
        for key, message in have.items():
            if key not in wanted:
                found.append(Problem(tag, _text(key), "no longer used (run scripts/translations.py update)"))
                continue
            strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
            if isinstance(key, tuple) and len(strings) != catalog.num_plurals:
                found.append(Problem(tag, _text(key), f"needs {catalog.num_plurals} plural forms"))
            if not all(strings):
                found.append(Problem(tag, _text(key), "untranslated"))
            if message.fuzzy:
                found.append(Problem(tag, _text(key), "fuzzy (review the translation, then remove the flag)"))
            for error in message.check(catalog):
                found.append(Problem(tag, _text(key), f"placeholders: {error}"))
    return found


def _text(key: object) -> str:
    return key[0] if isinstance(key, tuple) else str(key)


def compile_catalogs(force: bool = False, root: Path = TRANSLATIONS) -> list[Path]:
    """Compile each .po into its .mo when the .mo is missing or older; the paths written."""
    written = []
    for tag in translated_locales():
        source = po_path(tag, root)
        target = source.with_suffix(".mo")
        if not source.exists():
            continue
        if force or not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            catalog = read(source, tag)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            partial = target.with_name(f"{target.name}.{os.getpid()}")  # whole or not at all: test workers race
            partial.write_bytes(buffer.getvalue())
            os.replace(partial, target)
            written.append(target)
    return written
