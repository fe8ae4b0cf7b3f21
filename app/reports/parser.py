"""Rows of cells → the groups and records of one appendix. Pure: no database, no HTTP.

What a table copied out of a report looks like, and how each case is read:

- **Header rows** are recognised by their words (``app.reports.columns``). The same header again
  (after a page break) is skipped; a different one starts a new table (Phụ lục I has a second
  table of extra projects in triệu đồng).
- **Section headings** (``I. DANH SÁCH …``, ``II, DANH SÁCH …``) stand alone on a line and name
  the groups under them.
- **Group headings** are rows whose code is a bare ``I``/``II``/``A`` with only a title
  (``I | Dự án, đề án dùng vốn đầu tư``). Without them a group is the run of rows sharing a code
  prefix (``I.1``…``I.9``) and ending at a ``Tổng cộng`` line, so the stopped project ``III.1``
  after the last total is a group of its own.
- **Total lines** (``Tổng cộng``) declare the group's total. It is checked against the sum of
  the rows exactly, in đồng; a mismatch is reported, never corrected.
- **Collapsed rows**: when empty planned-year cells were lost in copying, the status and notes
  shift left. The status is found by its words (``Đang thực hiện``) wherever it landed.
- **Continued rows**: a row split by a page break continues on a line that starts in lowercase
  with no code; it is merged into the row above.
- Whatever cannot be read becomes a warning with its line number; the rest is still imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.reports.columns import Columns, is_header, is_year_row, read_columns
from app.reports.numbers import MoneyUnit, money_unit, parse_number, to_dong
from app.reports.records import (
    DONG,
    MAX_BUDGET_VND,
    ParsedAppendix,
    ParsedGroup,
    ParseWarning,
    Record,
    check_group,
    read_indicator,
    read_project,
    read_table_row,
)
from app.reports.sources import SourceRow
from app.reports.vocabulary import AppendixKind
from app.text import fold

_CODE = re.compile(r"^(?:[IVXLC]+|[A-Z]|\d+)(?:\.\d+)*\.?$")
_GROUP_CODE = re.compile(r"^(?:[IVXLC]+|[A-Z])\.?$")
_SECTION = re.compile(r"^(?:[IVXLC]+|[A-Z]|\d+)\s*[.,)]\s+\S")
_TOTAL = re.compile(r"^(tong cong|tong so|tong|cong)\s*:?$")
_APPENDIX = re.compile(r"^phu luc\b")
_UNIT_LINE = re.compile(r"^\(?\s*(dvt|don vi tinh)\s*:")


class NoTable(ValueError):
    """The rows hold no table this parser recognises (no header row)."""


@dataclass
class _Raw:
    """A data row as read, interpreted once complete (a later line may continue it)."""

    line: int
    text: str
    cells: list[str]
    columns: Columns


@dataclass
class _OpenGroup:
    title: str
    code: str | None
    prefix: str | None  # code prefix of an implicit group ("I" for I.1, I.2 …)
    explicit: bool
    rows: list[_Raw] = field(default_factory=list)
    declared_total_vnd: int | None = None
    declared_line: int | None = None
    closed: bool = False  # a total line ended it


def _code_prefix(code: str) -> str:
    code = code.rstrip(".")
    return code.rsplit(".", 1)[0] if "." in code else ""


def _starts_lowercase(text: str) -> bool:
    return bool(text) and text[0].isalpha() and text[0].islower()


class _Parser:
    def __init__(self, rows: list[SourceRow]) -> None:
        self.rows = rows
        self.warnings: list[ParseWarning] = []
        self.groups: list[_OpenGroup] = []
        self.columns: Columns | None = None
        self.kind: AppendixKind | None = None
        self.headers: list[str] = []
        self.section: str | None = None
        self.title: str | None = None
        self.appendix_heading: str | None = None
        self.pending_unit: MoneyUnit | None = None
        self.skipping = False  # inside a table of another kind than the appendix's

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(ParseWarning(line, message))

    @property
    def group(self) -> _OpenGroup | None:
        return self.groups[-1] if self.groups else None

    # --- the walk over the rows ---------------------------------------------------------

    def run(self) -> None:
        index = 0
        while index < len(self.rows):
            row = self.rows[index]
            index += 1
            cells = row.cells
            filled = [c for c in cells if c]
            if not filled:
                continue
            if is_header(cells):
                following = self.rows[index].cells if index < len(self.rows) else []
                years = following if is_year_row(following) else None
                index += 1 if years else 0
                self.on_header(row, years)
                continue
            if is_year_row(cells) and self.columns is not None:
                continue  # a planned-years row repeated on its own after a page break
            folded_first = fold(filled[0])
            if len(filled) == 1 and _APPENDIX.match(folded_first):
                if self.columns is not None:
                    self.warn(row.line, f"another appendix starts here ('{filled[0]}'); import it separately. "
                                        "Reading stopped")
                    return
                self.appendix_heading = filled[0]
                self.title = None
                self._subtitle_after(index)
                continue
            if len(filled) == 1 and _UNIT_LINE.match(folded_first):
                unit = money_unit(filled[0])
                if self.columns is not None and self.columns.unit is None:
                    self.columns.unit = unit
                self.pending_unit = unit
                continue
            if len(filled) == 1 and _SECTION.match(filled[0]) and not self._is_group_heading(cells):
                self.section = filled[0]
                self.close_group()
                continue
            if self.columns is None:
                continue  # title lines before the first table
            if self._is_total(cells):
                self.on_total(row)
                continue
            if self.skipping:
                continue
            self.on_row(row)

    def _subtitle_after(self, index: int) -> None:
        while index < len(self.rows):
            filled = [c for c in self.rows[index].cells if c]
            index += 1
            if not filled:
                continue
            text = filled[0]
            if len(filled) == 1 and text.isupper() and not _SECTION.match(text) and not text.startswith(("(", "*")):
                self.title = text
            return

    # --- headers ------------------------------------------------------------------------

    def on_header(self, row: SourceRow, years: list[str] | None) -> None:
        columns = read_columns(row.cells, years, self.pending_unit)
        if self.columns is not None and columns.signature == self.columns.signature:
            return  # the header repeated after a page break
        self.close_group()
        self.columns = columns
        if self.kind is None:
            self.kind = columns.kind
            self.headers = columns.labels
        self.skipping = columns.kind is not self.kind
        if self.skipping:
            self.warn(row.line, f"this table is not a {self.kind.value} table like the first one; its rows are "
                                "not read (import it as its own appendix)")
            return
        if columns.kind is AppendixKind.projects:
            if columns.unit is None:
                self.warn(row.line, "the table does not state its money unit (ĐVT); amounts are read as đồng")
            if columns.status is None:
                self.warn(row.line, "the table has no status column (Tình trạng)")
            if columns.name is None:
                self.warn(row.line, "the table has no project name column")

    # --- groups -------------------------------------------------------------------------

    def close_group(self) -> None:
        if self.group is not None:
            self.group.closed = True

    def open_group(self, *, title: str, code: str | None, prefix: str | None, explicit: bool) -> _OpenGroup:
        group = _OpenGroup(title=title, code=code, prefix=prefix, explicit=explicit)
        self.groups.append(group)
        return group

    def implicit_title(self, prefix: str | None) -> str:
        base = self.section or self.title or self.appendix_heading
        parts = [p for p in (base, f"nhóm {prefix}" if prefix else None) if p]
        return " — ".join(parts) if parts else f"Nhóm {len(self.groups) + 1}"

    def _is_group_heading(self, cells: list[str]) -> bool:
        cols = self.columns
        if cols is None:
            return False
        if cols.code is not None:
            code = cells[cols.code] if cols.code < len(cells) else ""
            rest = [c for i, c in enumerate(cells) if c and i != cols.code]
            return bool(_GROUP_CODE.match(code)) and len(rest) == 1
        filled = [i for i, c in enumerate(cells) if c]
        return cols.width > 1 and filled == [cols.text_columns[0] if cols.text_columns else 0]

    def _is_total(self, cells: list[str]) -> bool:
        return any(_TOTAL.match(fold(c)) for c in cells[:4] if c)

    # --- rows ---------------------------------------------------------------------------

    def on_row(self, row: SourceRow) -> None:
        cols = self.columns
        assert cols is not None
        cells = row.cells
        if self._is_group_heading(cells):
            code = cells[cols.code] if cols.code is not None else None
            name = next(c for i, c in enumerate(cells) if c and i != cols.code)
            self.close_group()
            self.open_group(title=f"{code.rstrip('.')}. {name}" if code else name, code=code, prefix=None,
                            explicit=True)
            return
        code = cells[cols.code] if cols.code is not None and cols.code < len(cells) else ""
        first_text = next((cells[i] for i in cols.text_columns if i < len(cells) and cells[i]), "")
        if not code and _starts_lowercase(first_text) and self.group is not None and self.group.rows:
            previous = self.group.rows[-1]
            width = max(len(previous.cells), len(cells))
            merged = []
            for i in range(width):
                a = previous.cells[i] if i < len(previous.cells) else ""
                b = cells[i] if i < len(cells) else ""
                merged.append(f"{a} {b}".strip())
            previous.cells = merged
            previous.text = f"{previous.text}\n{row.text}"
            self.warn(row.line, f"continues the row of line {previous.line} (split by a page break); merged into it")
            return
        if code and not _CODE.match(code):
            self.warn(row.line, f"not read: the code '{code}' is not a row number ({row.text[:80]!r})")
            return
        if cols.code is not None and not code:
            meaningful = sum(1 for c in cells if c) >= 2
            if not meaningful:
                self.warn(row.line, f"not read: {row.text.strip()[:80]!r}")
                return
            self.warn(row.line, "row without a number (TT); imported without a code")
        prefix = _code_prefix(code) if code else None
        group = self.group
        if group is None or group.closed or (
            not group.explicit and prefix and group.prefix is not None and prefix != group.prefix and group.rows
        ):
            group = self.open_group(title=self.implicit_title(prefix), code=prefix or None, prefix=prefix,
                                    explicit=False)
        if group.prefix is None and not group.explicit:
            group.prefix = prefix
        group.rows.append(_Raw(row.line, row.text, list(cells), cols))

    def on_total(self, row: SourceRow) -> None:
        cols = self.columns
        assert cols is not None
        group = self.group
        label_at = next(i for i, c in enumerate(row.cells) if c and _TOTAL.match(fold(c)))
        amount_text = None
        if cols.budget is not None and cols.budget < len(row.cells) and parse_number(row.cells[cols.budget]):
            amount_text = row.cells[cols.budget]
        else:
            numeric = [c for c in row.cells[label_at + 1:] if parse_number(c)]
            if numeric:
                amount_text = numeric[0]
                if len(numeric) > 1:
                    self.warn(row.line, f"the total line has several numbers; {amount_text} is taken as the total")
        if group is None or group.closed or not group.rows:
            self.warn(row.line, "a total line with no rows above it; ignored")
            return
        group.closed = True
        if self.skipping:
            return
        if cols.kind is not AppendixKind.projects:
            number = parse_number(amount_text or "")
            if number is not None and number.value != len(group.rows):
                self.warn(row.line, f"the total line says {amount_text}, the group has {len(group.rows)} rows")
            return
        if amount_text is None:
            cell = next((c for c in row.cells[label_at + 1:] if c), "")
            what = f"'{cell}' is not a number" if cell else "it has no amount"
            self.warn(row.line, f"the total line is not read: {what}")
            return
        number = parse_number(amount_text)
        assert number is not None
        if number.value < 0:
            self.warn(row.line, f"the declared total {amount_text} is negative; ignored")
            return
        dong, rounded = to_dong(number.value, cols.unit or DONG)
        if dong > MAX_BUDGET_VND:
            self.warn(row.line, f"the declared total {amount_text} is implausibly large; ignored")
            return
        if number.ambiguous:
            self.warn(row.line, f"the total {amount_text} was read with a decimal point ('.'), not as thousands")
        if rounded:
            self.warn(row.line, f"the total {amount_text} has fractions of a đồng; rounded")
        group.declared_total_vnd = dong
        group.declared_line = row.line

    # --- the result ---------------------------------------------------------------------

    def finish(self) -> ParsedAppendix:
        if self.kind is None:
            raise NoTable(
                "no table found: expected a header row such as "
                "'TT | Dự án | Chủ đầu tư | Kinh phí | Tình trạng | Ghi chú' (cells separated by tabs)"
            )
        groups = []
        for open_group in self.groups:
            if not open_group.rows:
                if open_group.explicit:
                    self.warn(None, f"the group '{open_group.title}' has no rows")
                continue
            group = ParsedGroup(
                title=open_group.title, code=open_group.code,
                declared_total_vnd=open_group.declared_total_vnd, declared_line=open_group.declared_line,
            )
            for raw in open_group.rows:
                group.records.append(self.interpret(raw))
            check_group(group, self.warn)
            groups.append(group)
        money = None
        if self.kind is AppendixKind.projects:
            units = {raw.columns.unit.label for g in self.groups for raw in g.rows if raw.columns.unit}
            money = ", ".join(sorted(units)) or DONG.label
        self.warnings.sort(key=lambda w: (w.line is not None, w.line or 0))
        return ParsedAppendix(self.kind, self.headers, groups, self.warnings, self.title, money)

    def interpret(self, raw: _Raw) -> Record:
        if raw.columns.kind is AppendixKind.projects:
            return read_project(raw.cells, raw.columns, raw.line, raw.text, self.warn)
        if raw.columns.kind is AppendixKind.indicators:
            return read_indicator(raw.cells, raw.columns, raw.line, raw.text)
        return read_table_row(raw.cells, raw.columns, raw.line, raw.text)


def parse_appendix(rows: list[SourceRow]) -> ParsedAppendix:
    """Read the tables in ``rows``; raises ``NoTable`` when there is none."""
    parser = _Parser(rows)
    parser.run()
    return parser.finish()
