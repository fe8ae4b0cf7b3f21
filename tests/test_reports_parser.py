"""The appendix parser on its own (no database): the seed's tables and the ways copies go wrong."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest

from app.reports.numbers import (
    MoneyUnit,
    money_unit,
    parse_measure,
    parse_number,
    to_dong,
)
from app.reports.parser import NoTable, parse_appendix
from app.reports.records import ParsedProject
from app.reports.sources import UnreadableFile, read_source
from app.reports.vocabulary import (
    AppendixKind,
    BudgetBasis,
    ProjectStatus,
    project_status,
)
from tests.reports_helpers import SEED, as_csv, as_xlsx, replace_line, sample

TY = 10**9
TRIEU = 10**6


def parse(data: bytes | str, filename: str = "phu-luc.txt"):
    raw = data.encode() if isinstance(data, str) else data
    return parse_appendix(read_source(raw, filename).rows)


def projects(appendix) -> list[ParsedProject]:
    return [r for g in appendix.groups for r in g.records]


def messages(appendix) -> list[str]:
    return [f"{w.line}: {w.message}" for w in appendix.warnings]


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "ambiguous"),
    [
        ("29,8", "29.8", False),
        ("19.287", "19287", False),
        ("0,04", "0.04", False),
        ("6.900", "6900", False),
        ("1.234.567,5", "1234567.5", False),
        ("121,35", "121.35", False),
        ("2.5", "2.5", True),  # only an English decimal point can be followed by one digit
        ("1,234.5", "1234.5", True),
        ("-3", "-3", False),
        (" 2 384 ", "2384", False),
    ],
)
def test_vietnamese_numbers(text, value, ambiguous):
    parsed = parse_number(text)
    assert parsed is not None and parsed.value == Decimal(value) and parsed.ambiguous is ambiguous


@pytest.mark.parametrize("text", ["", "Chưa có số liệu", "=SUM(D3:D9)", "12a", "1.2.3", "x"])
def test_what_is_not_a_number(text):
    assert parse_number(text) is None


def test_money_is_exact_integer_dong():
    assert to_dong(Decimal("29.8"), MoneyUnit("tỷ đồng", TY)) == (29_800_000_000, False)
    assert to_dong(Decimal("19287"), MoneyUnit("triệu đồng", TRIEU)) == (19_287_000_000, False)
    assert to_dong(Decimal("0.04"), MoneyUnit("tỷ đồng", TY)) == (40_000_000, False)
    assert to_dong(Decimal("0.5"), MoneyUnit("đồng", 1)) == (1, True)  # rounded, and said so
    assert money_unit("Kinh phí (ước) ĐVT: tỷ đồng").dong == TY
    assert money_unit("Kinh phí (triệu đồng)").dong == TRIEU
    assert money_unit("budget_vnd").dong == 1
    assert parse_measure("59%") == (Decimal(59), "%") and parse_measure("Chưa có số liệu") == (None, None)


@pytest.mark.parametrize(
    ("words", "status"),
    [
        ("Chưa thực hiện", ProjectStatus.not_started),
        ("Đang lập dự án", ProjectStatus.preparing),
        ("Đang lập kế hoạch", ProjectStatus.preparing),
        ("Đang lập thuyết minh", ProjectStatus.preparing),
        ("Đang thực hiện", ProjectStatus.in_progress),
        ("dang thuc hien", ProjectStatus.in_progress),
        ("Hoàn thành 2012", ProjectStatus.completed),
        ("Ngưng thực hiện", ProjectStatus.stopped),
        ("Đã xây dựng một số văn bản", None),
    ],
)
def test_status_words(words, status):
    assert project_status(words) == status


# --- the seed -----------------------------------------------------------------------------


def test_the_samples_are_the_seed_text():
    if not SEED.exists():
        pytest.skip("shared/seeds is not beside the repository")
    seed = SEED.read_text(encoding="utf-8").splitlines()
    start = seed.index("PHỤ LỤC I")
    assert sample("phu-luc-I").splitlines() == seed[start:seed.index("PHỤ LỤC II") - 3]
    assert sample("phu-luc-II").splitlines() == seed[seed.index("PHỤ LỤC II"):]
    first = seed.index("Các chỉ tiêu đạt được so với mục tiêu đã đề ra:")
    assert sample("chi-tieu").splitlines() == seed[first:first + 22]


def test_phu_luc_I_has_55_projects_in_7_groups_whose_totals_match_exactly():
    appendix = parse(sample("phu-luc-I"))
    assert appendix.kind is AppendixKind.projects
    assert appendix.row_count == 55
    assert [len(g.records) for g in appendix.groups] == [9, 6, 14, 8, 1, 5, 12]
    declared = [g.declared_total_vnd for g in appendix.groups]
    assert declared == [29_800_000_000, 38_300_000_000, 121_350_000_000, 28_734_000_000, None,
                        19_287_000_000, 5_510_000_000]
    for group in appendix.groups:
        if group.declared_total_vnd is not None:
            assert group.computed_total_vnd == group.declared_total_vnd and group.matches is True
    stopped = appendix.groups[4]
    assert [(p.code, p.budget_vnd, p.status) for p in stopped.records] == [("III.1", 3 * TY, ProjectStatus.stopped)]
    assert stopped.matches is None
    assert messages(appendix) == []


def test_phu_luc_I_groups_are_named_after_their_section_or_heading():
    titles = [g.title for g in parse(sample("phu-luc-I")).groups]
    assert titles[0].startswith("I. DANH SÁCH CÁC DỰ ÁN TRONG GIAI ĐOẠN CHUẨN BỊ ĐẦU TƯ")
    assert titles[0].endswith("nhóm I")
    assert titles[1].endswith("nhóm II")
    assert titles[2].startswith("II, DANH SÁCH CÁC DỰ ÁN TRONG GIAI ĐOẠN THỰC HIỆN") and titles[4].endswith("nhóm III")
    assert titles[5:] == ["I. Dự án, đề án dùng vốn đầu tư",
                          "II. Đề án, dự án, đề cương và dự toán chi tiết dùng vốn sự nghiệp"]


def test_phu_luc_I_rows_are_read_field_by_field():
    by_line = {p.line: p for p in projects(parse(sample("phu-luc-I")))}
    first = by_line[10]
    assert (first.code, first.name, first.owner, first.budget_vnd, first.budget_basis, first.status,
            first.status_text) == ("I.1", "Nâng cấp CSDL CBCC", "Sở Nội vụ", TY, BudgetBasis.estimated,
                                   ProjectStatus.not_started, "Chưa thực hiện")
    assert first.text == "I.1\tNâng cấp CSDL CBCC\tSở Nội vụ\t1\t\t\t\t\t\tChưa thực hiện\t"
    # After the repeated header (page break) the group goes on.
    assert by_line[21].code == "I.9" and by_line[21].budget_vnd == 5 * TY
    # Collapsed year cells: status and notes shifted left, still found.
    collapsed = by_line[46]
    assert (collapsed.code, collapsed.budget_vnd, collapsed.budget_basis, collapsed.status) == (
        "I.11", 40_000_000, BudgetBasis.approved, ProjectStatus.in_progress)
    assert collapsed.notes.startswith("Đã xây dựng xong quy chế")
    assert by_line[58].status_text == "Hoàn thành 2012" and by_line[58].status is ProjectStatus.completed
    # The extra-projects table: millions, "DỰ ÁN" column holds the owner, "Nội dung" the project.
    extra = by_line[65]
    assert (extra.code, extra.owner, extra.budget_vnd, extra.budget_basis, extra.notes) == (
        "1", "Sở Khoa học Công nghệ", 6_900 * TRIEU, None, "Đang trình phê duyệt")
    assert extra.name.startswith("Đầu tư trang thiết bị")
    assert all(p.planned_years == [] for p in by_line.values())


def test_phu_luc_II_is_a_table_of_31_agencies_in_3_groups():
    appendix = parse(sample("phu-luc-II"))
    assert appendix.kind is AppendixKind.table
    assert appendix.headers == ["STT", "Tên cơ quan", "Tình hình Triển khai QLVB"]
    assert appendix.title == "TÌNH HÌNH TRIỂN KHAI PHẦN MỀM QUẢN LÝ VĂN BẢN"
    assert [(g.title, len(g.records)) for g in appendix.groups] == [
        ("I. Cơ quan chuyên môn trực thuộc UBND tỉnh", 18), ("II. UBND cấp huyện", 7), ("III. Cơ quan khác", 6)]
    eighteenth = appendix.groups[0].records[17]
    assert eighteenth.cells[1] == "Văn Phòng UBND tỉnh" and eighteenth.cells[2].startswith("Đang sử dụng PMQLVB")
    assert eighteenth.numbers == ["18", None, None]


def test_the_indicator_table_merges_the_row_split_by_a_page_break():
    appendix = parse(sample("chi-tieu"))
    assert appendix.kind is AppendixKind.indicators
    assert [(g.title, len(g.records)) for g in appendix.groups] == [
        ("Ứng dụng CNTT trong nội bộ CQNN", 7), ("Ứng dụng CNTT phục vụ người dân, DN", 5), ("Hệ thống kĩ thuật", 1)]
    split = appendix.groups[0].records[2]
    assert split.indicator == "Tỉ lệ văn bản được gửi qua môi trường mạng và được xác thực bằng chữ ký số"
    assert (split.baseline_text, split.current_text, split.target_text) == ("Chưa thực hiện", "Chưa thực hiện", "60%")
    first = appendix.groups[0].records[0]
    assert (first.baseline_value, first.current_value, first.target_value, first.unit) == ("59", "83", "100", "%")
    assert (first.baseline_year, first.target_year) == (2011, 2015)
    assert any("continues the row of line 7" in m for m in messages(appendix))


# --- the same appendix in other forms -------------------------------------------------------


def _fields(appendix):
    return [
        (g.title, g.declared_total_vnd, [(r.line, {k: v for k, v in vars(r).items() if k not in {"text"}})
                                         for r in g.records])
        for g in appendix.groups
    ]


@pytest.mark.parametrize("name", ["phu-luc-I", "phu-luc-II", "chi-tieu"])
def test_csv_and_xlsx_give_the_same_records_as_the_text(name):
    text = sample(name)
    expected = _fields(parse(text))
    assert _fields(parse(as_csv(text), "phu-luc.csv")) == expected
    assert _fields(parse(as_csv(text, delimiter=";", bom=True), "phu-luc.csv")) == expected
    assert _fields(parse(as_xlsx(text), "phu-luc.xlsx")) == expected


# --- what goes wrong in copies --------------------------------------------------------------


def test_a_group_one_row_short_of_its_total_is_reported_not_fixed():
    text = replace_line(sample("phu-luc-I"), "I.5\tỨng dụng CNTT tại Sở Giáo dục", None)
    appendix = parse(text)
    first = appendix.groups[0]
    assert (first.declared_total_vnd, first.computed_total_vnd, first.matches) == (
        29_800_000_000, 27_800_000_000, False)
    assert [g.matches for g in appendix.groups[1:]] == [True, True, True, None, True, True]
    found = messages(appendix)
    assert any("declares a total of 29.800.000.000 đồng but its rows add up to 27.800.000.000" in m for m in found)
    assert any("skips row number(s) 5" in m for m in found)


def test_negative_formula_and_unreadable_budgets_are_warnings_and_the_rest_is_read():
    text = sample("phu-luc-I")
    text = replace_line(text, "I.2\tỨng dụng CNTT tại Ban QL KCN",
                        "I.2\tỨng dụng CNTT tại Ban QL KCN\tBQL\t-2,5\t\t\t\t\t\tChưa thực hiện\t")
    text = replace_line(text, "I.3\tỨng dụng một cửa",
                        "I.3\tỨng dụng một cửa\tSở TT & TT\t=SUM(D1:D2)\t\t\t\t\t\tChưa thực hiện\t")
    appendix = parse(text)
    assert appendix.row_count == 55
    rows = {p.code: p for p in appendix.groups[0].records}
    assert rows["I.2"].budget_vnd is None and rows["I.3"].budget_vnd is None
    found = messages(appendix)
    assert "11: budget -2,5 is negative; not read" in found
    assert "12: budget '=SUM(D1:D2)' is not a number (a formula is not a number); not read" in found
    assert appendix.groups[0].matches is False


def test_planned_years_are_read_from_their_columns_and_shifted_marks_are_flagged():
    text = sample("phu-luc-I")
    text = replace_line(text, "I.1\tNâng cấp CSDL CBCC",
                        "I.1\tNâng cấp CSDL CBCC\tSở Nội vụ\t1\t\tx\tx\t\t\tChưa thực hiện\t")
    text = replace_line(text, "I.4\tỨng dụng CNTT của ngành Tư pháp",
                        "I.4\tỨng dụng CNTT của ngành Tư pháp\tSở Tư pháp\t0,8\tx\tChưa thực hiện\t")
    rows = {p.code: p for p in parse(text).groups[0].records}
    assert rows["I.1"].planned_years == [2012, 2013]
    assert rows["I.4"].planned_years == [] and rows["I.4"].status is ProjectStatus.not_started
    assert "13: planned years are marked but the columns shifted; planned years not read" in messages(parse(text))


def test_unknown_status_words_are_kept_and_flagged():
    text = replace_line(sample("phu-luc-I"), "I.6\tỨng dụng CNTT ngành Giao thông",
                        "I.6\tỨng dụng CNTT ngành Giao thông Vận tải\tSở GTVT\t6\t\t\t\t\t\tTạm hoãn vô thời hạn\t")
    project = next(p for p in parse(text).groups[0].records if p.code == "I.6")
    assert project.status is None and project.status_text == "Tạm hoãn vô thời hạn"
    assert "15: status 'Tạm hoãn vô thời hạn' not recognised; kept as written" in messages(parse(text))


def test_a_stray_line_inside_a_table_is_a_warning_with_its_line():
    text = replace_line(sample("phu-luc-I"), "I.7\tCSDL GIS", "Trang 2/5")
    appendix = parse(text)
    assert appendix.row_count == 54
    assert any(m.startswith("16: not read") for m in messages(appendix))


def test_an_xlsx_formula_total_without_a_saved_value_is_a_warning():
    xlsx = as_xlsx(sample("phu-luc-I"), overrides={(22, 4): "=SUM(D10:D21)"})
    source = read_source(xlsx, "phu-luc.xlsx")
    appendix = parse_appendix(source.rows)
    assert appendix.groups[0].declared_total_vnd is None and appendix.groups[0].matches is None
    found = [m for m in messages(appendix) + [f"{line}: {m}" for line, m in source.warnings] if m.startswith("22:")]
    assert any("formula (=SUM(D10:D21)) without a saved value" in m for m in found)
    assert any("the total line is not read" in m for m in found)
    assert appendix.row_count == 55


def windows_1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 stores it: base letters (ư, ơ, â …) with combining tone marks."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", char)
            shape = "".join(m for m in marks[1:] if m in "\u0302\u0306\u031b")  # circumflex, breve, horn
            tones = "".join(m for m in marks[1:] if m not in shape)
            out += unicodedata.normalize("NFC", marks[0] + shape).encode("cp1258") + tones.encode("cp1258")
    return out


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.txt", "empty"),
        (b"  \n\t\n", "a.txt", "empty"),
        (bytes(range(256)) * 8, "a.txt", "binary"),
        ("TT\tDự án\tKinh phí\n".encode("utf-16"), "a.txt", "UTF-16"),
        (windows_1258("TT\tDự án\tKinh phí (tỷ đồng)\tTình trạng\n1\tỨng dụng\t2\tĐang thực hiện\n"),
         "a.csv", "not UTF-8"),
        (b"%PDF-1.4\n...", "a.pdf", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls", ".xls"),
        (b"PK\x03\x04garbage", "a.xlsx", "damaged"),
        (b"just some text", "a.xlsx", "not an Excel workbook"),
    ],
)
def test_unreadable_files_say_why(data, filename, message):
    with pytest.raises(UnreadableFile, match=message):
        read_source(data, filename)


def test_text_without_a_table_is_refused():
    with pytest.raises(NoTable, match="no table found"):
        parse("Kính gửi: Bộ Thông tin và Truyền thông\nBáo cáo tình hình…\n")


def test_a_row_numbered_like_a_year_is_data_not_a_header():
    rows = "".join(f"{n}\tDự án {n}\tSở X\t1\tĐang thực hiện\n" for n in range(1998, 2003))
    appendix = parse("TT\tDự án\tChủ đầu tư\tKinh phí (tỷ đồng)\tTình trạng\n" + rows)
    assert [p.code for p in projects(appendix)] == ["1998", "1999", "2000", "2001", "2002"]
    assert messages(appendix) == []
