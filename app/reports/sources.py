"""Uploaded bytes → rows of text cells, each with the line it came from.

Three forms are read: tab-separated text as copied out of a Word or PDF report (``.txt``,
``.tsv``), CSV (comma, semicolon or tab; UTF-8 with or without BOM) and XLSX. The form is
told by the bytes, not trusted from the file name. Anything else (a PDF, an old ``.xls``, a
Word file, UTF-16 or Windows-1258 text, binary noise) is refused with a message that says
what to do instead; never a 500.

Numbers in XLSX cells become Vietnamese-formatted text (``29,8``), so every form goes through
the same number reading and gives the same records.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.reports.numbers import vietnamese
from app.text import nfc

MAX_APPENDIX_BYTES = 5 * 1024 * 1024  # a 55-row appendix is 15 kB; 5 MB is ~300 times that
MAX_ROWS = 20_000
MAX_COLUMNS = 64
MAX_CELL_CHARS = 4_000
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024  # a zip bomb inflates past this

_MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf]|Ä\u2018|á»|áº")


class UnreadableFile(ValueError):
    """The file cannot be read as a table at all; the message tells the user why."""


@dataclass
class SourceRow:
    line: int  # 1-based line of a text/CSV file, row number of a worksheet
    cells: list[str]
    text: str  # the row as it came, for the record


@dataclass
class Source:
    format: str  # "text" | "csv" | "xlsx"
    rows: list[SourceRow]
    warnings: list[tuple[int | None, str]] = field(default_factory=list)


def detect_format(data: bytes, filename: str | None) -> str:
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"%PDF"):
        raise UnreadableFile("this is a PDF; copy its tables as text, or export them as CSV or XLSX")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("this is an old Office file (.xls/.doc); save it as .xlsx or CSV (UTF-8)")
    if name.endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("the file is named .xlsx but is not an Excel workbook")
    if name.endswith(".csv"):
        return "csv"
    return "text"


def decode_text(data: bytes) -> str:
    """UTF-8 text (a BOM is dropped), or a clear refusal."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise UnreadableFile("the text is UTF-16; save it as UTF-8 (in Excel: CSV UTF-8)")
    if b"\x00" in data:
        raise UnreadableFile("this is a binary file, not text; upload tab-separated text, CSV (UTF-8) or XLSX")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the text is not UTF-8 (byte {exc.start} cannot be read); it may be Windows-1258 or TCVN3: "
            "save it as UTF-8"
        ) from exc
    return nfc(text)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    return len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4


def _clip(cells: list[str], line: int, warnings: list[tuple[int | None, str]]) -> list[str]:
    if len(cells) > MAX_COLUMNS and any(c.strip() for c in cells[MAX_COLUMNS:]):
        warnings.append((line, f"only the first {MAX_COLUMNS} columns are read"))
    cells = cells[:MAX_COLUMNS]
    if any(len(c) > MAX_CELL_CHARS for c in cells):
        warnings.append((line, f"a cell longer than {MAX_CELL_CHARS} characters was cut"))
        cells = [c[:MAX_CELL_CHARS] for c in cells]
    return cells


def _check_rows(count: int) -> None:
    if count > MAX_ROWS:
        raise UnreadableFile(f"more than {MAX_ROWS} rows; an appendix is a table, not a database dump")


def read_text(text: str) -> Source:
    """Tab-separated lines as copied from a document: one row per line, cells split on tabs."""
    warnings: list[tuple[int | None, str]] = []
    lines = text.splitlines()
    _check_rows(len(lines))
    rows = []
    for number, raw in enumerate(lines, start=1):
        cells = _clip([c.strip() for c in raw.split("\t")], number, warnings)
        rows.append(SourceRow(number, cells, raw))
    return Source("text", rows, warnings)


def read_csv(text: str) -> Source:
    """CSV with the delimiter Excel used (comma, or semicolon where the comma is the decimal mark)."""
    warnings: list[tuple[int | None, str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[SourceRow] = []
    start = 1
    try:
        for record in reader:
            _check_rows(len(rows) + 1)
            cells = _clip([c.strip() for c in record], start, warnings)
            rows.append(SourceRow(start, cells, "\t".join(record).rstrip()))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num}: not valid CSV ({exc})") from exc
    return Source("csv", rows, warnings)


def _delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most columns, consistently.

    (csv.Sniffer guesses wrong on short Vietnamese tables with commas inside quoted cells.)
    """
    sample = "\n".join(text.splitlines()[:50])
    best, best_score = ",", 0.0
    for delimiter in (",", ";", "\t"):
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = common * widths.count(common) / len(widths) if common > 1 else 0.0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return vietnamese(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return vietnamese(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return nfc(str(value)).strip()


def read_xlsx(data: bytes) -> Source:
    """The first worksheet of a workbook. Formula cells are not evaluated: Excel's saved result is
    used when the file has one, and a warning names the formula either way."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                raise UnreadableFile("this zip file is not an Excel workbook (a .docx or .ods?); save it as .xlsx")
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNCOMPRESSED:
                raise UnreadableFile("the workbook unpacks to more than 50 MB")
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("the file looks like a zip/XLSX file but is damaged") from exc

    from openpyxl import load_workbook  # imported here: only XLSX uploads need it

    try:
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a malformed workbook
        raise UnreadableFile(f"the workbook cannot be read ({type(exc).__name__})") from exc
    try:
        if not formulas.worksheets:
            raise UnreadableFile("the workbook has no worksheet")
        warnings: list[tuple[int | None, str]] = []
        if len(formulas.worksheets) > 1:
            warnings.append((None, f"only the first worksheet ('{formulas.worksheets[0].title}') is read"))
        rows: list[SourceRow] = []
        pairs = zip(
            formulas.worksheets[0].iter_rows(values_only=True), values.worksheets[0].iter_rows(values_only=True),
            strict=False,
        )
        for number, (raw_row, saved_row) in enumerate(pairs, start=1):
            _check_rows(number)
            cells = []
            for column, (raw, saved) in enumerate(zip(raw_row, saved_row, strict=False), start=1):
                if isinstance(raw, str) and raw.startswith("="):
                    formula = f"column {column} holds a formula ({raw[:60]})"
                    if saved is None:
                        warnings.append((number, f"{formula} without a saved value; read as empty"))
                    else:
                        warnings.append((number, f"{formula}; its saved value {saved} is used"))
                    cells.append(_cell_text(saved))
                else:
                    cells.append(_cell_text(raw))
            while cells and not cells[-1]:
                cells.pop()
            cells = _clip(cells, number, warnings)
            rows.append(SourceRow(number, cells, "\t".join(cells)))
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"the workbook cannot be read ({type(exc).__name__})") from exc
    finally:
        formulas.close()
        values.close()
    return Source("xlsx", rows, warnings)


def read_source(data: bytes, filename: str | None) -> Source:
    """Rows of the uploaded file, or ``UnreadableFile``."""
    if not data.strip():
        raise UnreadableFile("the file is empty")
    if len(data) > MAX_APPENDIX_BYTES:
        raise UnreadableFile(f"appendix files are limited to {MAX_APPENDIX_BYTES // (1024 * 1024)} MB")
    kind = detect_format(data, filename)
    if kind == "xlsx":
        return read_xlsx(data)
    text = decode_text(data)
    source = read_csv(text) if kind == "csv" else read_text(text)
    if _MOJIBAKE.search(text):
        source.warnings.insert(0, (None, "the text looks double-encoded (e.g. 'Ã¡' for 'á'); check the export"))
    return source
