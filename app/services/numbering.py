"""Gapless arrival numbers (số đến), one sequence per register per year.

The counter row is locked for the rest of the registering transaction and incremented in
it. A registration that fails rolls back its increment, so numbers have no gaps; two
transactions can never read the same value, so numbers have no duplicates. This holds
across server processes because the lock is the database's: a row lock on PostgreSQL,
the write lock that ``BEGIN IMMEDIATE`` takes on SQLite.

Every registration of a register and year queues on its counter row, so the time the lock
is held is the registering throughput. :func:`insert_numbered` therefore takes the number
and writes everything that depends on it in as few statements as the database allows: one
on PostgreSQL (data-modifying CTEs), after which the caller commits at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import DocumentEvent, IdempotencyKey, IncomingDocument, RegisterCounter


@dataclass(frozen=True)
class Numbered:
    """What the database chose for a new registration."""

    document_id: int
    arrival_number: int


def ensure_counter(*, session: Session, register_id: int, year: int) -> None:
    """Create the (register, year) counter at 0 if it does not exist yet (takes no lock when it does)."""
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert_(RegisterCounter)
        .values(register_id=register_id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["register_id", "year"])
    )


def take_next_number(*, session: Session, register_id: int, year: int) -> int:
    """Increment the counter and return the new arrival number.

    The UPDATE locks the row until the transaction ends: the caller should do nothing slow
    between this and its commit, since every registration of the register waits for it.
    """
    return session.execute(
        update(RegisterCounter)
        .where(RegisterCounter.register_id == register_id, RegisterCounter.year == year)
        .values(last_number=RegisterCounter.last_number + 1)
        .returning(RegisterCounter.last_number)
    ).scalar_one()


def insert_numbered(
    *,
    session: Session,
    document: dict[str, Any],
    event: dict[str, Any],
    idempotency: dict[str, Any] | None,
) -> Numbered:
    """Take the next number of ``document``'s register and year and insert the document with it,
    its ``register`` event (whose ``data`` gains ``arrival_number``) and its idempotency key.

    ``document`` holds every column but ``id`` and ``arrival_number``; ``event`` and
    ``idempotency`` every column but ``document_id`` (and ``id``). The caller should commit
    straight after: from here the counter row is locked. A unique violation (a duplicate or a
    reused key raced in by another request) raises ``IntegrityError`` and leaves the
    transaction to be rolled back, number included.
    """
    if session.get_bind().dialect.name == "postgresql":
        return _insert_numbered_in_one_statement(session, document, event, idempotency)
    register_id, year = document["register_id"], document["year"]
    ensure_counter(session=session, register_id=register_id, year=year)
    number = take_next_number(session=session, register_id=register_id, year=year)
    document_id = session.execute(
        insert(IncomingDocument).values(**document, arrival_number=number).returning(IncomingDocument.id)
    ).scalar_one()
    session.execute(
        insert(DocumentEvent).values(
            {**event, "document_id": document_id, "data": {**event["data"], "arrival_number": number}}
        )
    )
    if idempotency is not None:
        session.execute(insert(IdempotencyKey).values(**idempotency, document_id=document_id))
    return Numbered(document_id, number)


def _insert_numbered_in_one_statement(
    session: Session, document: dict[str, Any], event: dict[str, Any], idempotency: dict[str, Any] | None
) -> Numbered:
    """PostgreSQL: counter upsert, document, event and key as one statement of chained CTEs.

    The row lock is taken by the statement that also does every write, so it is held for one
    statement and the commit, not for a round trip per write while Python runs in between.
    """
    params = {
        **{f"document_{name}": value for name, value in document.items()},
        **{f"event_{name}": value for name, value in event.items()},
        **{f"key_{name}": value for name, value in (idempotency or {}).items()},
    }
    row = session.execute(_one_statement(with_key=idempotency is not None), params).one()
    return Numbered(row.id, row.arrival_number)


def _columns(model: type, *, without: tuple[str, ...]) -> list[str]:
    return [c.name for c in model.__table__.c if c.name not in without]  # type: ignore[attr-defined]


@functools.cache
def _one_statement(*, with_key: bool) -> Select[tuple[int, int]]:
    """The registering statement, built once: parameters ``document_<column>`` (every column
    but ``id`` and ``arrival_number``), ``event_<column>`` (but ``id`` and ``document_id``)
    and, ``with_key``, ``key_<column>`` (but ``id`` and ``document_id``)."""
    document_columns = _columns(IncomingDocument, without=("id", "arrival_number"))
    counter = (
        pg_insert(RegisterCounter)
        .values(
            register_id=_param(IncomingDocument, "register_id", "document_"),
            year=_param(IncomingDocument, "year", "document_"),
            last_number=1,
        )
        .on_conflict_do_update(
            index_elements=["register_id", "year"], set_={"last_number": RegisterCounter.last_number + 1}
        )
        .returning(RegisterCounter.last_number)
        .cte("counter")
    )
    new_document = (
        insert(IncomingDocument)
        .from_select(
            [*document_columns, "arrival_number"],
            select(*(_param(IncomingDocument, c, "document_") for c in document_columns), counter.c.last_number),
        )
        .returning(IncomingDocument.id, IncomingDocument.arrival_number)
        .cte("new_document")
    )
    event_columns = _columns(DocumentEvent, without=("id", "document_id", "data"))
    event_data = cast(
        cast(bindparam("event_data", type_=JSON), JSONB).op("||")(
            func.jsonb_build_object("arrival_number", new_document.c.arrival_number)
        ),
        JSON,
    )
    new_event = (
        insert(DocumentEvent)
        .from_select(
            [*event_columns, "data", "document_id"],
            select(*(_param(DocumentEvent, c, "event_") for c in event_columns), event_data, new_document.c.id),
        )
        .cte("new_event")
    )
    statement = select(new_document.c.id, new_document.c.arrival_number).add_cte(new_event)
    if with_key:
        key_columns = _columns(IdempotencyKey, without=("id", "document_id"))
        new_key = (
            insert(IdempotencyKey)
            .from_select(
                [*key_columns, "document_id"],
                select(*(_param(IdempotencyKey, c, "key_") for c in key_columns), new_document.c.id),
            )
            .cte("new_key")
        )
        statement = statement.add_cte(new_key)
    return statement


def _param(model: type, column: str, prefix: str) -> ColumnElement[Any]:
    """A parameter cast to ``model.column``'s type.

    The cast matters for NULLs: in ``INSERT … SELECT`` PostgreSQL types an untyped parameter
    in the select list as text, which no date or integer column accepts.
    """
    type_ = model.__table__.c[column].type  # type: ignore[attr-defined]
    return cast(bindparam(prefix + column, type_=type_), type_).label(column)
