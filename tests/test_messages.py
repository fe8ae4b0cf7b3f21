"""The message catalog: every message of the code translated, none with a placeholder the English lacks."""

from __future__ import annotations

import string

import pytest

from app.i18n import Joined, Text, msg, negotiate, translations
from app.i18n.catalog import build


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_catalog_matches_the_code_and_is_fully_translated() -> None:
    state = build()
    assert state.stale() == [], "run `congvan messages` and translate what it lists"
    assert state.untranslated == {"vi": []}


def test_no_translation_names_a_value_the_english_does_not_give() -> None:
    vietnamese = translations("vi")
    assert len(vietnamese) > 100
    wrong = {english: sorted(_fields(vi) - _fields(english))
             for english, vi in vietnamese.items() if not _fields(vi) <= _fields(english)}
    assert wrong == {}


def test_texts_render_in_the_language_asked_for_with_their_values() -> None:
    text = msg("unknown unit '{code}'", code="XYZ")
    assert text.render("en") == "unknown unit 'XYZ'"
    assert text.render("vi") == "không có đơn vị 'XYZ'"
    assert str(text) == "unknown unit 'XYZ'"
    nested = msg("{field}: {message}", field="roles", message=msg("at least one role is required"))
    assert nested.render("vi") == "roles: cần ít nhất một vai trò"
    joined = Joined((nested, msg("must not be empty")))
    assert joined.render("en") == "roles: at least one role is required; must not be empty"


def test_a_message_not_in_the_catalog_is_shown_in_english() -> None:
    assert Text("a sentence nobody translated {n}", {"n": 3}).render("vi") == "a sentence nobody translated 3"


@pytest.mark.parametrize(("header", "language"), [
    (None, "vi"), ("", "vi"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("vi-VN, en;q=0.5", "vi"),
    ("en;q=0.5, vi", "vi"), ("fr, en;q=0.1", "en"), ("fr", "vi"), ("*", "vi"), ("en;q=zero, vi", "vi"),
    ("en;q=0", "vi"),
])
def test_the_language_is_negotiated_from_accept_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language
