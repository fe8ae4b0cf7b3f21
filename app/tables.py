"""Tables as files auditors open in Excel: the CSV's bytes and a download's file name.

One writer for the API (app.api.tabular) and the console: UTF-8 with a BOM (so Excel shows
Vietnamese), CRLF line ends, commas, quotes and newlines quoted, and text that starts like a
formula made inert (``app.text.inert``). Written a block of lines at a time, so a year's register
book (about 100 000 lines) never exists as one string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote

from app.text import inert

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_BLOCK_LINES = 2000


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition`` for a download. A name that is not plain ASCII (it may carry a
    client's register code) goes in RFC 5987's ``filename*``, as Starlette's FileResponse does:
    header values are Latin-1, and a quote or line break must not end up in one."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


def csv_blocks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV's bytes: the BOM and the header, then the rows, a block of lines at a time."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    block: list[Sequence[object]] = []
    for row in rows:
        block.append([inert(v) for v in row])
        if len(block) == CSV_BLOCK_LINES:
            writer.writerows(block)
            block.clear()
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(block)
    yield buffer.getvalue().encode("utf-8")


def csv_line_blocks(header: Sequence[str], lines: Sequence[str]) -> Iterator[bytes]:
    """Like ``csv_blocks``, for lines already written as CSV (by the database): the BOM and the
    header, then the lines, each ended with CRLF as the ``csv`` module ends them."""
    yield b"".join(csv_blocks(header, ()))
    for start in range(0, len(lines), CSV_BLOCK_LINES):
        block = lines[start:start + CSV_BLOCK_LINES]
        yield ("\r\n".join(block) + "\r\n").encode("utf-8")
