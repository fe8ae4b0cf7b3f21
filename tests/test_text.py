"""The search fold: what ``q`` and the stored search column both go through."""

import re
import unicodedata

from app.text import fold

_WHITESPACE = re.compile(r"\s+")


def _fold_by_definition(value: str) -> str:
    """The fold as written down: NFD, drop every combining mark one by one, casefold, single spaces."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", stripped.casefold()).strip()


def test_vietnamese_folds_to_plain_ascii():
    assert fold("Báo cáo sơ kết") == "bao cao so ket"
    assert fold("ĐÀ NẴNG") == "da nang"
    assert fold(unicodedata.normalize("NFD", "Thông tư   Ủy ban\tnhân dân")) == "thong tu uy ban nhan dan"
    assert fold("08/BC-BCĐ") == "08/bc-bcd"


def test_the_fast_path_folds_every_character_as_the_definition_does():
    """Every character of the Basic Multilingual Plane, alone and between letters with marks."""
    for code_point in range(0x10000):
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        character = chr(code_point)
        for text in (character, f"Ấ{character}ể"):
            assert fold(text) == _fold_by_definition(text), hex(code_point)


def test_marks_outside_the_common_block_and_the_grapheme_joiner():
    for text in ("x\u034fy", "a\u1ab0b", "a\u20d0b", "\U0001d165x", "Ελληνικά ὀδυσσεύς", "naïve café"):
        assert fold(text) == _fold_by_definition(text)
    assert fold("x\u034fy") == "x\u034fy"  # the grapheme joiner is not a mark: kept, as before


def test_vietnamese_order_letters_then_tones() -> None:
    """Đ after D, Ă and Â after A, Ơ after Ô after O, Ư after U; tones after the bare letter in the
    order none, huyền, hỏi, ngã, sắc, nặng; case ignored."""
    from app.text import vietnamese_key

    words = ["Ưng", "uy", "Đức", "Dung", "Âu", "Ăn", "ánh", "Anh", "Ơn", "Ôm", "ong", "tụ", "Tú", "tù", "tũ", "tủ", "tu"]
    assert sorted(words, key=vietnamese_key) == [
        "Anh", "ánh", "Ăn", "Âu", "Dung", "Đức", "ong", "Ôm", "Ơn", "tu", "tù", "tủ", "tũ", "Tú", "tụ", "uy", "Ưng"]
    # composed and decomposed input sort alike
    assert vietnamese_key("Nguyễn") == vietnamese_key(unicodedata.normalize("NFD", "Nguyễn"))


def test_people_sort_by_given_name_then_whole_name() -> None:
    from app.text import person_name_key

    names = ["Nguyễn Thị Bình", "Trần Văn An", "Lê Văn Đức", "Phạm Thị Dung", "Đỗ Văn An"]
    assert sorted(names, key=person_name_key) == [
        "Đỗ Văn An", "Trần Văn An", "Nguyễn Thị Bình", "Phạm Thị Dung", "Lê Văn Đức"]
