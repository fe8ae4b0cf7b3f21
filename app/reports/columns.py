"""Recognising a table's header row: which column holds what, found by its words, not its index.

A header row is one whose first filled cell and at least one other cell name a known column
(``TT``, ``Dự án``, ``Chủ đầu tư``, ``Kinh phí``, ``Tình trạng``, ``Ghi chú``, ``Nội dung``,
``Mục tiêu 2015``…). Copied from Word, the planned-years block often sits on a second header
row (``||||2011|2012|2013|2014|2015||``) under a merged ``Tiến độ theo Kế hoạch`` cell: that
row is read into the same header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.reports.numbers import MoneyUnit, money_unit
from app.reports.vocabulary import AppendixKind, BudgetBasis, budget_basis
from app.text import fold

# (role, pattern on the folded cell)
_ROLES: list[tuple[str, re.Pattern[str]]] = [
    ("code", re.compile(r"^(s?tt|so tt|so thu tu|ma( so)?|code|no\.?)$")),
    ("budget", re.compile(r"^(kinh phi|tong muc|tong von|von dau tu|du toan|budget)")),
    ("year", re.compile(r"^(nam )?(19|20)\d\d$")),
    ("progress", re.compile(r"^(tien do|thoi gian)")),
    ("status", re.compile(r"^(tinh trang|trang thai|status)")),
    ("notes", re.compile(r"^(ghi chu|notes?)$")),
    ("owner", re.compile(r"^(chu dau tu|don vi chu tri|co quan chu tri|don vi thuc hien|owner)")),
    ("content", re.compile(r"^(noi dung|chi tieu|indicator)")),
    ("target", re.compile(r"^(muc tieu|ke hoach (nam )?(19|20)\d\d|target)")),
    ("current", re.compile(r"^(hien trang|hien nay|thuc hien|thuc te|current)")),
    ("name", re.compile(r"^(du an|ten|hang muc|de an|chuong trinh|nhiem vu|project|name)")),
]
_YEAR = re.compile(r"(19|20)\d\d")


def column_role(cell: str) -> str | None:
    folded = fold(cell)
    for role, pattern in _ROLES:
        if pattern.match(folded):
            return role
    return None


def is_header(cells: list[str]) -> bool:
    filled = [c for c in cells if c]
    # The first label must be a word: a row numbered 2011 is data, not a planned-years header.
    if len(filled) < 2 or column_role(filled[0]) in {None, "year"}:
        return False
    return sum(1 for c in filled if column_role(c)) >= 2


def is_year_row(cells: list[str]) -> bool:
    filled = [c for c in cells if c]
    return bool(filled) and all(re.fullmatch(r"(19|20)\d\d", c) for c in filled)


@dataclass
class Columns:
    kind: AppendixKind
    labels: list[str]  # one display label per column
    signature: tuple[str, ...]  # folded header cells: a repeated header after a page break has the same
    code: int | None = None
    name: int | None = None
    owner: int | None = None
    content: int | None = None
    budget: int | None = None
    status: int | None = None
    notes: int | None = None
    years: dict[int, int] = field(default_factory=dict)  # column → planned year
    unit: MoneyUnit | None = None
    basis: BudgetBasis | None = None
    # indicator tables
    indicator: int | None = None
    baseline: int | None = None
    current: int | None = None
    target: int | None = None
    baseline_year: int | None = None
    target_year: int | None = None

    @property
    def width(self) -> int:
        return len(self.labels)

    @property
    def text_columns(self) -> list[int]:
        """Columns holding names rather than figures, left to right."""
        return sorted(i for i in (self.name, self.owner, self.content, self.indicator) if i is not None)


def read_columns(header: list[str], years_row: list[str] | None, pending_unit: MoneyUnit | None) -> Columns:
    """The column map of a header row (and the planned-years row under it, if any)."""
    width = max(len(header), len(years_row or []))
    labels = [header[i] if i < len(header) else "" for i in range(width)]
    roles: dict[int, str] = {}
    for i, label in enumerate(labels):
        role = column_role(label) if label else None
        if role:
            roles[i] = role
    years: dict[int, int] = {}
    for i, cell in enumerate(years_row or []):
        if cell:
            years[i] = int(cell)
            labels[i] = cell if not labels[i] else f"{labels[i]} {cell}"

    def first(role: str) -> int | None:
        return next((i for i, r in sorted(roles.items()) if r == role), None)

    has_budget = first("budget") is not None
    kind = (
        AppendixKind.projects if has_budget
        else AppendixKind.indicators if first("target") is not None
        else AppendixKind.table
    )
    cols = Columns(kind=kind, labels=labels, signature=tuple(fold(c) for c in header if c))
    cols.code = first("code")
    if kind is AppendixKind.indicators:
        cols.indicator = first("content") if first("content") is not None else first("name")
        cols.target = first("target")
        cols.current = first("current")
        cols.baseline = first("year")
        for index, attr in ((cols.baseline, "baseline_year"), (cols.target, "target_year")):
            found = _YEAR.search(labels[index]) if index is not None else None
            if found:
                setattr(cols, attr, int(found.group()))
        if cols.indicator is None:
            cols.indicator = 0 if cols.code != 0 else 1
        return cols

    cols.name = first("name")
    cols.owner = first("owner")
    cols.content = first("content")
    cols.status = first("status")
    cols.notes = first("notes")
    if kind is AppendixKind.projects:
        cols.budget = first("budget")
        assert cols.budget is not None
        cols.unit = money_unit(labels[cols.budget]) or pending_unit
        cols.basis = budget_basis(labels[cols.budget])
        years.update({i: int(_YEAR.search(labels[i]).group()) for i, r in roles.items() if r == "year"})  # type: ignore[union-attr]
        cols.years = dict(sorted(years.items()))
    if cols.name is None:
        # A table must name its rows somewhere: the first text column after the code.
        cols.name = next((i for i in range(width) if i != cols.code and i not in roles), None)
    return cols
