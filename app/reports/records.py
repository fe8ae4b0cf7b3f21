"""What the parser makes of a row: projects, table rows, indicators, and the checks on a group.

Pure functions of a row's cells and its table's columns (``app.reports.columns``); whatever they
cannot read is passed to ``warn`` with the line, never dropped silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from app.reports.columns import Columns
from app.reports.numbers import (
    MoneyUnit,
    canonical,
    parse_measure,
    parse_number,
    to_dong,
)
from app.reports.vocabulary import (
    AppendixKind,
    BudgetBasis,
    ProjectStatus,
    project_status,
)
from app.text import fold

MAX_BUDGET_VND = 10**15  # a million tỷ, about the whole state budget of a year: more is a misread
DONG = MoneyUnit("đồng", 1)
YEAR_MARKS = {"x", "✓", "√", "•", "+", "*", "v", "co"}

Warn = Callable[[int | None, str], None]


@dataclass
class ParseWarning:
    line: int | None
    message: str


@dataclass
class ParsedProject:
    line: int
    text: str
    code: str | None
    name: str
    owner: str | None
    budget_vnd: int | None
    budget_basis: BudgetBasis | None
    planned_years: list[int]
    status: ProjectStatus | None
    status_text: str | None
    notes: str | None


@dataclass
class ParsedTableRow:
    line: int
    text: str
    code: str | None
    cells: list[str]
    numbers: list[str | None]  # the cell's number as canonical decimal text, where it is one


@dataclass
class ParsedIndicator:
    line: int
    text: str
    indicator: str
    baseline_text: str | None
    current_text: str | None
    target_text: str | None
    baseline_value: str | None
    current_value: str | None
    target_value: str | None
    unit: str | None
    baseline_year: int | None
    target_year: int | None


Record = ParsedProject | ParsedTableRow | ParsedIndicator


@dataclass
class ParsedGroup:
    title: str
    code: str | None
    records: list[Record] = field(default_factory=list)
    declared_total_vnd: int | None = None
    declared_line: int | None = None

    @property
    def computed_total_vnd(self) -> int | None:
        budgets = [r.budget_vnd for r in self.records if isinstance(r, ParsedProject)]
        if not budgets:
            return None
        return sum(b for b in budgets if b is not None)

    @property
    def matches(self) -> bool | None:
        """Declared total equals the rows' sum (None when nothing was declared)."""
        if self.declared_total_vnd is None:
            return None
        return self.declared_total_vnd == self.computed_total_vnd


@dataclass
class ParsedAppendix:
    kind: AppendixKind
    headers: list[str]
    groups: list[ParsedGroup]
    warnings: list[ParseWarning]
    title: str | None  # the appendix's own heading, when the file has one
    money_unit: str | None

    @property
    def row_count(self) -> int:
        return sum(len(g.records) for g in self.groups)


def read_project(cells: list[str], cols: Columns, line: int, text: str, warn: Warn) -> ParsedProject:
    """A project row, read by its columns; the status is found by its words where collapsed cells moved it."""

    def cell(index: int | None) -> str:
        return cells[index] if index is not None and index < len(cells) else ""

    if cols.owner is None and cols.content is not None:
        # "DỰ ÁN … | Nội dung" and no "Chủ đầu tư": the first column names the agency, the second the project.
        owner, name = cell(cols.name), cell(cols.content)
    else:
        owner, name = cell(cols.owner), cell(cols.name)
    if not name:
        warn(line, "the project has no name")

    budget_vnd = read_budget(cell(cols.budget), cols, line, warn)

    first_tail = (cols.budget if cols.budget is not None else max(cols.text_columns, default=0)) + 1
    tail = cells[first_tail:]
    expected = cols.status - first_tail if cols.status is not None else None
    position = None
    if expected is not None and expected < len(tail) and project_status(tail[expected]):
        position = expected
    else:
        position = next((i for i, c in enumerate(tail) if c and project_status(c)), None)
    if position is None and expected is not None:
        if expected < len(tail) and tail[expected]:
            position = expected
        else:
            loose = [i for i, c in enumerate(tail) if c and fold(c) not in YEAR_MARKS]
            position = loose[0] if loose else None
    status_text = tail[position] if position is not None else None
    status = project_status(status_text) if status_text else None
    if status_text and status is None:
        warn(line, f"status '{status_text}' not recognised; kept as written")
    elif not status_text and cols.status is not None:
        warn(line, "no status")
    if position is not None:
        note_cells = [c for c in tail[position + 1:] if c]
    else:
        note_cells = [cell(cols.notes)] if cols.notes is not None and cell(cols.notes) else []
    notes = " ".join(note_cells) or None

    planned: list[int] = []
    year_cells = tail[:position] if position is not None else tail[: len(cols.years)]
    offsets = {index - first_tail: year for index, year in cols.years.items()}
    marked = [(i, c) for i, c in enumerate(year_cells) if c]
    if marked:
        shifted = position is not None and expected is not None and position != expected
        if shifted or not offsets:
            warn(line, "planned years are marked but the columns shifted; planned years not read")
        else:
            for i, mark in marked:
                if i in offsets:
                    planned.append(offsets[i])
                    if fold(mark) not in YEAR_MARKS and mark != str(offsets[i]):
                        warn(line, f"planned year {offsets[i]} is marked with '{mark}'")
                else:
                    warn(line, f"'{mark}' sits in no planned-year column; not read")
    return ParsedProject(
        line=line, text=text, code=cell(cols.code).rstrip(".") or None, name=name, owner=owner or None,
        budget_vnd=budget_vnd, budget_basis=cols.basis, planned_years=sorted(planned), status=status,
        status_text=status_text, notes=notes,
    )


def read_budget(text: str, cols: Columns, line: int, warn: Warn) -> int | None:
    if not text:
        warn(line, "no budget")
        return None
    number = parse_number(text)
    if number is None:
        hint = " (a formula is not a number)" if text.startswith("=") else ""
        warn(line, f"budget '{text}' is not a number{hint}; not read")
        return None
    if number.value < 0:
        warn(line, f"budget {text} is negative; not read")
        return None
    dong, rounded = to_dong(number.value, cols.unit or DONG)
    if dong > MAX_BUDGET_VND:
        warn(line, f"budget {text} is implausibly large; not read")
        return None
    if number.ambiguous:
        warn(line, f"budget {text} was read with a decimal point ('.'), not as thousands")
    if rounded:
        warn(line, f"budget {text} has fractions of a đồng; rounded")
    return dong


def read_indicator(cells: list[str], cols: Columns, line: int, text: str) -> ParsedIndicator:

    def cell(index: int | None) -> str | None:
        return (cells[index] or None) if index is not None and index < len(cells) else None

    values = {name: parse_measure(cell(index) or "") for name, index in
              (("baseline", cols.baseline), ("current", cols.current), ("target", cols.target))}
    units = {unit for _value, unit in values.values() if unit}
    return ParsedIndicator(
        line=line, text=text, indicator=cell(cols.indicator) or "",
        baseline_text=cell(cols.baseline), current_text=cell(cols.current), target_text=cell(cols.target),
        baseline_value=_text(values["baseline"][0]), current_value=_text(values["current"][0]),
        target_value=_text(values["target"][0]), unit=units.pop() if len(units) == 1 else None,
        baseline_year=cols.baseline_year, target_year=cols.target_year,
    )


def read_table_row(raw_cells: list[str], cols: Columns, line: int, text: str) -> ParsedTableRow:
    width = max(cols.width, len(raw_cells))
    cells = [raw_cells[i] if i < len(raw_cells) else "" for i in range(width)]
    numbers = []
    for value in cells:
        number = parse_number(value)
        numbers.append(canonical(number.value) if number and not number.ambiguous else None)
    code = cells[cols.code].rstrip(".") if cols.code is not None and cells[cols.code] else None
    return ParsedTableRow(line=line, text=text, code=code, cells=cells, numbers=numbers)


def check_group(group: ParsedGroup, warn: Warn) -> None:
    """Duplicate codes, skipped row numbers, and the declared total against the rows' sum."""
    codes = [r.code for r in group.records if isinstance(r, (ParsedProject, ParsedTableRow)) and r.code]
    for code, count in Counter(codes).items():
        if count > 1:
            warn(None, f"code {code} appears {count} times in the group '{group.title}'")
    tails = [int(c.rsplit(".", 1)[-1]) for c in codes if c.rsplit(".", 1)[-1].isdigit()]
    if tails and len(set(tails)) == len(tails):
        missing = sorted(set(range(min(tails), max(tails) + 1)) - set(tails))
        if missing:
            shown = ", ".join(str(m) for m in missing[:10])
            warn(None, f"the group '{group.title}' skips row number(s) {shown}: a row may be missing")
    if group.matches is False:
        warn(
            group.declared_line,
            f"the group '{group.title}' declares a total of {_dong(group.declared_total_vnd)} đồng but its "
            f"rows add up to {_dong(group.computed_total_vnd)} đồng (difference "
            f"{_dong((group.computed_total_vnd or 0) - (group.declared_total_vnd or 0))} đồng)",
        )


def _dong(amount: int | None) -> str:
    """``29800000000`` → ``29.800.000.000`` (Vietnamese thousands separators)."""
    return f"{amount or 0:,}".replace(",", ".")


def _text(value: object) -> str | None:
    return canonical(value) if isinstance(value, Decimal) else None
