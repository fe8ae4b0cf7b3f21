"""CSV (and XLSX) responses for tables that auditors open in Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

from app.text import inert

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BINARY = {"type": "string", "format": "binary"}


def download(media_type: str, description: str, schema: dict[str, str] = BINARY) -> dict[int | str, dict]:
    """The 200 of an operation that answers a file: its one media type, its bytes as
    ``{"type": "string", "format": "binary"}`` (text as ``{"type": "string"}``), so that client
    generators give a function returning the bytes (openapi/README.md)."""
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}


CSV_DOWNLOAD = download(CSV_MEDIA_TYPE, "CSV in UTF-8 with a BOM (for Excel); the header names the columns",
                        {"type": "string"})
XLSX_DOWNLOAD = download(XLSX_MEDIA_TYPE, "An XLSX workbook")


class CSVResponse(Response):
    media_type = CSV_MEDIA_TYPE


class XLSXResponse(Response):
    media_type = XLSX_MEDIA_TYPE


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition`` for a download. A name that is not plain ASCII (it may carry a
    client's register code) goes in RFC 5987's ``filename*``, as Starlette's FileResponse does:
    header values are Latin-1, and a quote or line break must not end up in one."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> Response:
    """UTF-8 with a BOM, so Excel shows Vietnamese correctly; commas, quotes and newlines quoted;
    text that starts like a formula made inert (``app.text.inert``)."""
    return Response(
        b"".join(_csv_blocks(header, rows)),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(filename)},
    )


def csv_stream_response(header: Sequence[str], rows: Sequence[Sequence[object]], filename: str) -> Response:
    """``csv_response`` streamed a block of lines at a time, for long tables already in memory
    (a year's register book is about 100 000 lines): neither the whole text nor its bytes
    need to exist at once. The caller should have closed its database session: the stream
    outlives the endpoint, and FastAPI closes the session only after the last byte is sent."""
    return StreamingResponse(
        _csv_blocks(header, rows),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(filename)},
    )


CSV_BLOCK_LINES = 2000


def _csv_blocks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
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


def csv_lines_response(header: Sequence[str], lines: Sequence[str], filename: str) -> Response:
    """Like ``csv_stream_response``, for lines already written as CSV (by the database): the BOM
    and the header, then the lines, each ended with CRLF as the ``csv`` module ends them."""
    return StreamingResponse(
        _line_blocks(header, lines),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(filename)},
    )


def _line_blocks(header: Sequence[str], lines: Sequence[str]) -> Iterator[bytes]:
    yield b"".join(_csv_blocks(header, ()))
    for start in range(0, len(lines), CSV_BLOCK_LINES):
        block = lines[start:start + CSV_BLOCK_LINES]
        yield ("\r\n".join(block) + "\r\n").encode("utf-8")
