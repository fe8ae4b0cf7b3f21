"""Gapless arrival numbers (số đến), one sequence per register per year.

The counter row is locked for the rest of the registering transaction and incremented in
it. A registration that fails rolls back its increment, so numbers have no gaps; two
transactions can never read the same value, so numbers have no duplicates. This holds
across server processes because the lock is the database's: a row lock on PostgreSQL,
the write lock that ``BEGIN IMMEDIATE`` takes on SQLite.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import RegisterCounter


def ensure_counter(*, session: Session, register_id: int, year: int) -> None:
    """Create the (register, year) counter at 0 if it does not exist yet (takes no lock when it does)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(RegisterCounter)
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
