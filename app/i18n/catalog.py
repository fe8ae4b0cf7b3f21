"""Keeping the catalog in step with the code: ``congvan messages`` (and ``--check`` in the tests).

Every ``msg("...")`` under ``app/`` is a message (Babel's extractor finds them, adjacent literals
joined). ``messages.pot`` is the template a translator starts from; each language's ``.po`` is
merged with it: new messages are added untranslated, messages no longer in the code are dropped.
A check fails while any message lacks its Vietnamese or the files differ from what the code says.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from app.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, catalog_path

APP_DIR = LOCALE_DIR.parent.parent
TEMPLATE_PATH = LOCALE_DIR.parent / f"{DOMAIN}.pot"
KEYWORDS = {"msg": None, "_": None}  # msg(template, **params) in the code, _(template, **params) in templates
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
PROJECT = "congvan"
HEADER = ("# The messages of congvan, written in English in the code (msg(...)) and shown in the reader's\n"
          "# language. Kept by `congvan messages`; translate the msgstr lines only.")
# The header dates would change on every run and make the check fail; the history is in git.
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def extract() -> Catalog:
    """The template catalog: every message the code marks, with where it is used."""
    template = Catalog(project=PROJECT, fuzzy=False, header_comment=HEADER, creation_date=FIXED_DATE, revision_date=FIXED_DATE)
    methods = [m for m in METHODS if m[1] == "python" or _has_jinja2()]
    for filename, lineno, message, comments, context in extract_from_dir(
        APP_DIR, method_map=methods, keywords=KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True,
    ):
        if not message:
            continue
        template.add(message, None, [(f"app/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def _has_jinja2() -> bool:
    try:
        import jinja2  # noqa: F401
    except ImportError:
        return False
    return True


def _render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # Without line numbers, so that moving code does not change the catalog; without Babel's
    # version, so that the check does not depend on which Babel is installed.
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=True, include_previous=False,
             ignore_obsolete=True, include_lineno=False)
    return b"".join(line for line in buffer.getvalue().splitlines(keepends=True)
                    if not line.startswith(b'"Generated-By:'))


@dataclass
class CatalogState:
    """What ``congvan messages`` would write, and what stands between the catalog and the code."""

    files: dict[Path, bytes]
    untranslated: dict[str, list[str]]

    def stale(self) -> list[Path]:
        return [path for path, content in self.files.items() if not path.exists() or path.read_bytes() != content]


def build() -> CatalogState:
    template = extract()
    files = {TEMPLATE_PATH: _render(template)}
    untranslated: dict[str, list[str]] = {}
    for language in LANGUAGES:
        if language == "en":
            continue  # the code's own language
        path = catalog_path(language)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, project=PROJECT, fuzzy=False, creation_date=FIXED_DATE,
                              header_comment=HEADER)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        catalog.creation_date = catalog.revision_date = FIXED_DATE
        files[path] = _render(catalog)
        untranslated[language] = sorted(m.id for m in catalog if m.id and not (m.string and not m.fuzzy))
    return CatalogState(files, untranslated)


def write(state: CatalogState) -> list[Path]:
    written = []
    for path in state.stale():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(state.files[path])
        written.append(path)
    return written
