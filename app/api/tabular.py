"""CSV (and XLSX) responses for tables that auditors open in Excel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fastapi.responses import Response, StreamingResponse

from app.tables import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, attachment_disposition, csv_blocks, csv_line_blocks


__all__ = ["CSV_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "attachment_disposition"]  # where the routes take them from

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


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> Response:
    """UTF-8 with a BOM, so Excel shows Vietnamese correctly; commas, quotes and newlines quoted;
    text that starts like a formula made inert (``app.text.inert``)."""
    return Response(
        b"".join(csv_blocks(header, rows)),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(filename)},
    )


def csv_stream_response(header: Sequence[str], rows: Sequence[Sequence[object]], filename: str) -> Response:
    """``csv_response`` streamed a block of lines at a time, for long tables already in memory
    (a year's register book is about 100 000 lines): neither the whole text nor its bytes
    need to exist at once. The caller should have closed its database session: the stream
    outlives the endpoint, and FastAPI closes the session only after the last byte is sent."""
    return StreamingResponse(
        csv_blocks(header, rows),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(filename)},
    )


def csv_lines_response(header: Sequence[str], lines: Sequence[str], filename: str) -> Response:
    """Like ``csv_stream_response``, for lines already written as CSV (by the database): the BOM
    and the header, then the lines, each ended with CRLF as the ``csv`` module ends them."""
    return StreamingResponse(
        csv_line_blocks(header, lines),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(filename)},
    )
