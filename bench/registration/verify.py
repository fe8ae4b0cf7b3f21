"""Gapless numbers: after each side, the register's arrival numbers for the year must be exactly
1..N, with one event per document, the counter at N, and N what the load generator counted.

Throughput that loses or repeats a number is no throughput at all; this is the check that the
lock the benchmark measures really serialised every registration.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg

COUNT = (
    "SELECT count(*), min(d.arrival_number), max(d.arrival_number), count(DISTINCT d.arrival_number) "
    "FROM incoming_documents d JOIN registers r ON r.id = d.register_id WHERE r.code = %s AND d.year = %s"
)
EVENTS = (
    "SELECT count(*) FROM document_events e JOIN incoming_documents d ON d.id = e.document_id "
    "JOIN registers r ON r.id = d.register_id WHERE r.code = %s AND d.year = %s"
)
COUNTER = (
    "SELECT c.last_number FROM register_counters c JOIN registers r ON r.id = c.register_id "
    "WHERE r.code = %s AND c.year = %s"
)


def verify_numbers(conninfo: str, register_code: str, year: int, expected: int | None) -> dict[str, object]:
    """Arrival numbers of the register/year must be exactly 1..N; events and counter must agree."""
    with psycopg.connect(conninfo) as conn:
        rows = [conn.execute(sql, (register_code, year)).fetchone() for sql in (COUNT, EVENTS, COUNTER)]
    return _judge(register_code, year, expected, *rows)


def verify_numbers_sqlite(path: Path, register_code: str, year: int, expected: int | None) -> dict[str, object]:
    """The same check on the SQLite file."""
    with closing(sqlite3.connect(path)) as conn:
        rows = [conn.execute(sql.replace("%s", "?"), (register_code, year)).fetchone()
                for sql in (COUNT, EVENTS, COUNTER)]
    return _judge(register_code, year, expected, *rows)


def _judge(register_code: str, year: int, expected: int | None, numbers: tuple, events_row: tuple,
           counter: tuple | None) -> dict[str, object]:
    count, lo, hi, distinct = numbers
    events = events_row[0]
    counter_value = counter[0] if counter else None
    ok = (
        count > 0 and lo == 1 and hi == count and distinct == count and events == count
        and counter_value == count and (expected is None or expected == count)
    )
    return {
        "register": register_code, "year": year, "count": count, "min": lo, "max": hi,
        "distinct": distinct, "events": events, "counter": counter_value, "expected": expected,
        "gapless_unique": ok,
    }

