"""Alembic environment: the URL comes from the app's settings unless the caller set one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from app.config import Settings
from app.models import Base
from app.models.documents import PRIORITY_INDEX, SEARCH_TRGM_INDEX, SQLITE_SEARCH_TABLE

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """Keep autogenerate/check off objects that exist on one backend only by design."""
    if type_ == "table" and name and name.startswith(SQLITE_SEARCH_TABLE):
        return False  # the FTS5 virtual table and its shadow tables (SQLite)
    if type_ == "index" and name == SEARCH_TRGM_INDEX and context.get_context().dialect.name != "postgresql":
        return False
    if type_ == "index" and name == PRIORITY_INDEX:
        # An expression index: PostgreSQL gives its expression back rewritten (casts, parentheses), so
        # the comparison always differs; tests/test_migrations.py holds the migration's expression to
        # the work list's order instead.
        return False
    return True


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
