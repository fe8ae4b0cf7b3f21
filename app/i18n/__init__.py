"""Words shown to people, in Vietnamese first and English second, from one gettext catalog.

Code writes every message in English through :func:`msg`, which does not translate: it returns a
:class:`Text` (the English template and its values) that is rendered in the reader's language only
when it is shown, by the error handler of the API or a page of the console. Services and rules so
never need to know who is reading. The English template is the gettext ``msgid``; the Vietnamese
is in ``app/i18n/locale/vi/LC_MESSAGES/messages.po``, kept by ``congvan messages`` (Babel reads and
writes it, so translators can use any PO editor). The catalog is read as a PO file at start-up,
so installing stays ``pip install``: there is no compile step.

Templates use ``str.format`` fields (``"unit '{code}' does not exist"``); a translation may reorder
or drop fields but not add ones the English lacks (``tests/test_messages.py`` checks).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
DEFAULT_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")  # the first is the default; English is the source language of the code

logger = logging.getLogger("congvan")


@dataclass(frozen=True)
class Text:
    """A message for a person: an English template and its values, translated when shown."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def with_params(self, **params: Any) -> Text:
        return Text(self.template, {**self.params, **params})

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The message in ``language`` (``vi`` or ``en``); English where no translation exists."""
        translated = translations(language).get(self.template, self.template)
        values = {key: (value.render(language) if isinstance(value, (Text, Joined)) else value)
                  for key, value in self.params.items()}
        try:
            return translated.format(**values)
        except (KeyError, IndexError, ValueError):
            # A translation that names a field the English lacks: a catalog defect the catalog
            # test catches; the reader still gets the English rather than an error.
            logger.warning("message %r has a broken %s translation", self.template, language)
            return self.template.format(**values)

    def __str__(self) -> str:
        return self.render("en")


@dataclass(frozen=True)
class Joined:
    """Several messages shown as one (``"; "`` between them): a problem's detail listing its fields."""

    parts: tuple[Text | str, ...]
    separator: str = "; "

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        return self.separator.join(render(part, language) for part in self.parts)

    def __str__(self) -> str:
        return self.render("en")


def msg(template: str, **params: Any) -> Text:
    """Mark ``template`` for the catalog (``congvan messages`` extracts every ``msg("...")``)."""
    return Text(template, params)


Message = Text | Joined | str
"""What may be shown to a person: a translatable text, several joined, or a plain string (a name)."""


def render(value: Message, language: str = DEFAULT_LANGUAGE) -> str:
    """A message in ``language``; a plain string (a name, a parser's report) as it is."""
    return value if isinstance(value, str) else value.render(language)


class Invalid(ValueError):
    """A value a person sent is wrong: a stable ``code`` for programs and a :class:`Text` for people.

    Raised by pydantic validators (which wrap it as a ``value_error`` whose context keeps this
    object), and by pure rules such as the symbol parser. ``field`` names the field the message is
    about when the validator checks a whole model (``assignments`` for a direction).
    """

    def __init__(self, text: Text, *, code: str, field: str | None = None) -> None:
        super().__init__(str(text))
        self.text = text
        self.code = code
        self.field = field


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Mapping[str, str]:
    """``msgid → msgstr`` of a language's catalog; empty for English, the code's own language."""
    if language == "en":
        return {}
    from babel.messages.pofile import read_po  # only when a translated message is first shown

    with catalog_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def negotiate(accept_language: str | None) -> str:
    """The language to answer in, from an ``Accept-Language`` header: ``vi`` unless ``en`` is preferred.

    Quality values are honoured (``en;q=0.5, vi`` is Vietnamese); ``en-US`` counts as ``en``;
    languages we do not have are skipped; a malformed entry is ignored rather than refused.
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate(accept_language.split(",")[:32]):
        tag, _, quality = entry.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        weight = 1.0
        if quality.strip().startswith("q="):
            try:
                weight = float(quality.strip()[2:])
            except ValueError:
                continue
        if primary in LANGUAGES and weight > 0:
            ranked.append((-weight, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
