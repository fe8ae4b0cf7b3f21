"""The seed's appendices as files of every accepted form, and small edits of them for tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook

from app.reports.numbers import parse_number

SAMPLES = Path(__file__).resolve().parent.parent / "app" / "reports" / "samples"
SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / "000_c5219668c0a7041d.txt"


def sample(name: str) -> str:
    """``phu-luc-I``, ``phu-luc-II`` or ``chi-tieu``: the seed's text, as copied from the report."""
    return (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")


def rows_of(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


def as_csv(text: str, *, delimiter: str = ",", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows_of(text):
        writer.writerow(row)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def as_xlsx(text: str, *, overrides: dict[tuple[int, int], object] | None = None) -> bytes:
    """A workbook with one row per line; Vietnamese numbers become numeric cells, as Excel keeps them."""
    book = Workbook()
    sheet = book.active
    for r, row in enumerate(rows_of(text), start=1):
        for c, cell in enumerate(row, start=1):
            number = parse_number(cell)
            value: object = cell or None
            if number is not None and not number.ambiguous:
                value = int(number.value) if number.value == number.value.to_integral_value() else float(number.value)
            sheet.cell(row=r, column=c, value=value)
    for (r, c), value in (overrides or {}).items():
        sheet.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_line(text: str, startswith: str, new: str | None) -> str:
    """``text`` with the one line starting with ``startswith`` replaced (or removed when ``new`` is None)."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.startswith(startswith)]
    assert len(hits) == 1, (startswith, hits)
    if new is None:
        del lines[hits[0]]
    else:
        lines[hits[0]] = new
    return "\n".join(lines) + "\n"
