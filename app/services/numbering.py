"""Gapless arrival numbers (số đến), one sequence per register per year.

The counter row is locked for the rest of the registering transaction and incremented in
it. A registration that fails rolls back its increment, so numbers have no gaps; two
transactions can never read the same value, so numbers have no duplicates. This holds
across server processes because the lock is the database's: a row lock on PostgreSQL,
the write lock that ``BEGIN IMMEDIATE`` takes on SQLite.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import RegisterCounter


def lock_counter(*, session: Session, register_id: int, year: int) -> int:
    """Create the (register, year) counter if needed, lock it, and return the last number given."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(RegisterCounter)
        .values(register_id=register_id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["register_id", "year"])
    )
    return session.execute(
        select(RegisterCounter.last_number)
        .where(RegisterCounter.register_id == register_id, RegisterCounter.year == year)
        .with_for_update()
    ).scalar_one()


def take_next_number(*, session: Session, register_id: int, year: int) -> int:
    """Increment the locked counter and return the new arrival number."""
    return session.execute(
        update(RegisterCounter)
        .where(RegisterCounter.register_id == register_id, RegisterCounter.year == year)
        .values(last_number=RegisterCounter.last_number + 1)
        .returning(RegisterCounter.last_number)
    ).scalar_one()
