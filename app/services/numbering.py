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

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, cast, func, insert, literal, select, update
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
    counter = (
        pg_insert(RegisterCounter)
        .values(register_id=document["register_id"], year=document["year"], last_number=1)
        .on_conflict_do_update(
            index_elements=["register_id", "year"], set_={"last_number": RegisterCounter.last_number + 1}
        )
        .returning(RegisterCounter.last_number)
        .cte("counter")
    )
    new_document = (
        insert(IncomingDocument)
        .from_select(
            [*document, "arrival_number"],
            select(*_literals(IncomingDocument, document), counter.c.last_number),
        )
        .returning(IncomingDocument.id, IncomingDocument.arrival_number)
        .cte("new_document")
    )
    event_data = cast(
        cast(literal(event["data"], JSON), JSONB).op("||")(
            func.jsonb_build_object("arrival_number", new_document.c.arrival_number)
        ),
        JSON,
    )
    other_event_columns = {k: v for k, v in event.items() if k != "data"}
    new_event = (
        insert(DocumentEvent)
        .from_select(
            [*other_event_columns, "data", "document_id"],
            select(*_literals(DocumentEvent, other_event_columns), event_data, new_document.c.id),
        )
        .cte("new_event")
    )
    statement = select(new_document.c.id, new_document.c.arrival_number).add_cte(new_event)
    if idempotency is not None:
        new_key = (
            insert(IdempotencyKey)
            .from_select(
                [*idempotency, "document_id"],
                select(*_literals(IdempotencyKey, idempotency), new_document.c.id),
            )
            .cte("new_key")
        )
        statement = statement.add_cte(new_key)
    row = session.execute(statement).one()
    return Numbered(row.id, row.arrival_number)


def _literals(model: type, values: dict[str, Any]) -> list[Any]:
    """Bound values cast to ``model``'s column types.

    The cast matters for NULLs: in ``INSERT … SELECT`` PostgreSQL types an untyped parameter
    in the select list as text, which no date or integer column accepts.
    """
    columns = model.__table__.c  # type: ignore[attr-defined]
    return [cast(literal(value, columns[name].type), columns[name].type).label(name) for name, value in values.items()]


