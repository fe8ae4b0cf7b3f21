"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production).

SQLite notes: foreign keys are off by default and must be switched on per connection;
a writing transaction starts with ``BEGIN IMMEDIATE`` so that two writers never both read
the arrival counter and then fail to upgrade their lock (the documented pysqlite recipe);
reading requests use a deferred ``BEGIN``, which under WAL takes no lock at all, so reads
never queue behind the single writer.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    if is_sqlite(url):
        settings.ensure_data_dir()
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


SQLITE_BEGIN_OPTION = "congvan_sqlite_begin"


def make_sessionmaker(engine: Engine, *, read_only: bool = False, per_statement: bool = False) -> sessionmaker[Session]:
    """Sessions for writing (default) or for reading only (no write lock on SQLite).

    ``per_statement`` sessions run each statement as its own transaction on PostgreSQL (the
    driver's autocommit), which saves the BEGIN and COMMIT round trips. They suit requests
    whose reads need no common snapshot and which write at most one statement (atomic on its
    own): authenticating a token, registering a document. SQLite's are the ordinary kind,
    since a writer there must hold ``BEGIN IMMEDIATE``.
    """
    options: dict[str, str] = {}
    if read_only:
        options[SQLITE_BEGIN_OPTION] = "DEFERRED"
    if per_statement and engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    bind = engine.execution_options(**options) if options else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)
