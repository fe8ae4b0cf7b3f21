"""Symbols as people type them (Word's dashes, odd spaces and slashes, a leading "Số")."""

from __future__ import annotations

import pytest

from app.workflow.symbols import InvalidSymbol, parse_symbol
from tests.conftest import document_body


@pytest.mark.parametrize("typed", ["08/BC–BCĐ", "08/BC—BCĐ", "08/BC−BCĐ", "08／BC-BCĐ", "08\u00a0/BC-BCĐ",
                                   "Số 08/BC-BCĐ", "Số: 08/BC–BCĐ", "số. 08/BC-BCĐ"])
def test_what_people_type_is_read_as_they_meant_it(typed):
    parsed = parse_symbol(typed)
    assert (parsed.symbol, parsed.document_number, parsed.document_type, parsed.issuer_code) == (
        "08/BC-BCĐ", "08", "BC", "BCĐ")
    assert parsed.as_written == typed.strip()


def test_a_symbol_typed_plainly_keeps_no_second_copy():
    assert parse_symbol("08/BC-BCĐ").as_written is None


def test_a_refused_symbol_names_the_offending_character():
    with pytest.raises(InvalidSymbol, match=r"'#' \(U\+0023\)"):
        parse_symbol("08/BC#BCĐ")


def test_an_en_dash_registers_as_a_hyphen_with_the_original_kept(client, as_user):
    response = client.post("/api/v1/incoming-documents", json=document_body(symbol="08/BC–BCĐ"),
                           headers=as_user("clerk"))
    assert response.status_code == 201, response.text
    document = response.json()
    assert (document["symbol"], document["symbol_as_written"], document["document_type"]) == (
        "08/BC-BCĐ", "08/BC–BCĐ", "BC")
    again = client.post("/api/v1/incoming-documents", json=document_body(symbol="08/BC-BCĐ"),
                        headers=as_user("clerk"))
    assert again.status_code == 409 and again.json()["duplicate_of"] == document["id"]  # the same document
    refused = client.post("/api/v1/incoming-documents", json=document_body(symbol="08/BC#BCĐ"),
                          headers=as_user("clerk"))
    assert refused.status_code == 422 and "U+0023" in refused.text
