"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production).

SQLite notes: foreign keys are off by default and must be switched on per connection;
commits are synced to disk (``synchronous=FULL`` in WAL mode), so an acknowledged write survives
a crash of the machine;
a writing transaction starts with ``BEGIN IMMEDIATE`` so that two writers never both read
the arrival counter and then fail to upgrade their lock (the documented pysqlite recipe);
reading requests use a deferred ``BEGIN``, which under WAL takes no lock at all, so reads
never queue behind the single writer.
"""

from __future__ import annotations

import select
import sqlite3
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.errors import AppError, InsufficientStorage, ServiceUnavailable
from app.i18n import msg


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    if is_sqlite(url):
        settings.ensure_data_dir()
        busy_s = settings.sqlite_busy_timeout_s
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_s})
        _configure_sqlite(engine, busy_timeout_ms=round(busy_s * 1000))
        return engine
    options = {} if settings.db_jit else {"options": "-c jit=off"}  # libpq's session settings
    if make_url(url).get_driver_name() != "psycopg" or settings.db_pre_ping:
        return create_engine(
            url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size, pool_pre_ping=True,
            connect_args=options,
        )
    engine = create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size,
        connect_args={**TCP_KEEPALIVES, **options},
    )
    event.listen(engine, "checkout", _refuse_connections_the_server_closed)
    return engine


# libpq's TCP keepalives on every connection: an idle pooled connection sends a probe after 30 s,
# so a firewall or load balancer does not forget it, and a peer that is gone shows up within
# a minute as an error on the socket, which the check-out below sees.
TCP_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def _refuse_connections_the_server_closed(dbapi_connection, _record, _proxy) -> None:  # noqa: ANN001
    """Discard a pooled connection that is closed or has input waiting before a request uses it;
    the pool then opens a new one.

    A healthy idle connection has nothing to read. One the server closed (a restart,
    ``pg_terminate_backend``, ``idle_session_timeout``) has the end of the stream or the
    server's farewell; one whose keepalive probe failed has a socket error. A poll with no
    timeout costs microseconds, where SQLAlchemy's ``pool_pre_ping`` costs a round trip per
    check-out: two per registration, measured at 9-20 % of its throughput.

    What this misses and a ping would catch: a middlebox that dropped the connection's state
    within the keepalive period and answers the next packet with a reset. That request fails,
    and the pool discards its connection; ``CONGVAN_DB_PRE_PING`` turns the ping back on where
    such a network is expected. A connection with input waiting for another reason (a NOTIFY;
    the app does not LISTEN) is discarded too, which is merely wasteful.
    """
    try:
        pending = _has_input(dbapi_connection.fileno())
    except (psycopg.OperationalError, OSError, ValueError) as exc:  # closed on our side
        raise DisconnectionError("the pooled connection is closed") from exc
    if pending:
        raise DisconnectionError("the pooled connection has input waiting: the server closed it")


def _has_input(fd: int) -> bool:
    """Whether ``fd`` is readable now (or hung up). ``poll`` where there is one: ``select``
    cannot take descriptors above 1023, which a busy server process reaches."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: each commit waits for the WAL to reach the disk, so a registration acknowledged is
        # kept through an OS crash or power loss (NORMAL could roll it back, and its arrival
        # number would be given again). The cost is measured in
        # bench/results/registration-issue11-sqlite-sync.md.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


SQLITE_BEGIN_OPTION = "congvan_sqlite_begin"


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_session(state: Any, method: str) -> Session:
    """The session of one request of the API or the console: read-only (no write lock on SQLite)
    for a reading method, else a writing one. ``state`` is the application's (app.main sets its
    sessionmakers)."""
    factory = state.read_sessionmaker if method in READ_METHODS else state.sessionmaker
    return factory()


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


# --- failures of the database itself, as opposed to errors in what we asked of it ------------

# SQLSTATEs that say the server went away or will not take us now: connection exceptions (08),
# an administrator's or a crash's shutdown, a server still starting up, too many connections.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# SQLite's primary result codes (the low byte of the extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 5, 6, 8
_SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_PROTOCOL = 10, 13, 14, 15
_SQLITE_UNAVAILABLE = frozenset({_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_CANTOPEN, _SQLITE_PROTOCOL})
_SQLITE_NO_SPACE = frozenset({_SQLITE_FULL, _SQLITE_READONLY})
POOL_RETRY_AFTER_S = 2
DOWN_RETRY_AFTER_S = 5


def database_failure(exc: BaseException) -> AppError | None:
    """The 503 (or 507) a database error stands for when its cause is the database's availability,
    not the statement: the server refused or dropped the connection, is restarting, every pooled
    connection is busy past the pool's timeout; SQLite's file is locked past the busy timeout,
    cannot be opened, or its disk is full. ``None`` for anything else (a bug: a 500).
    """
    if isinstance(exc, SATimeoutError):  # QueuePool limit reached, connection timed out
        return ServiceUnavailable(
            msg("every database connection is busy; try again shortly"), code="database.busy",
            retry_after=POOL_RETRY_AFTER_S,
        )
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    down = ServiceUnavailable(msg("the database is unavailable; try again shortly"), retry_after=DOWN_RETRY_AFTER_S)
    if exc.connection_invalidated:
        return down
    if isinstance(orig, psycopg.InterfaceError):
        return down
    if isinstance(orig, psycopg.OperationalError):
        # A failure to connect or a lost connection is the client's: libpq gives it no SQLSTATE.
        state = orig.sqlstate
        return down if state is None or state.startswith("08") or state in _UNAVAILABLE_SQLSTATES else None
    if isinstance(orig, sqlite3.OperationalError | sqlite3.InterfaceError):
        code = orig.sqlite_errorcode & 0xFF  # Python >= 3.11
        if code in _SQLITE_NO_SPACE:
            return InsufficientStorage(msg("the database's disk is full or read-only; nothing was recorded"),
                                       code="database.full")
        if code in _SQLITE_UNAVAILABLE:
            return down
    return None


def database_problem(engine: Engine) -> str | None:
    """Why the database cannot answer a query now (one line), or None when it can: for /health."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - health reports whatever stops the query
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        return f"{type(cause).__name__}: {lines[0] if lines else 'no message'}"
    return None
