"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production).

SQLite notes: foreign keys are off by default and must be switched on per connection;
a writing transaction starts with ``BEGIN IMMEDIATE`` so that two writers never both read
the arrival counter and then fail to upgrade their lock (the documented pysqlite recipe);
reading requests use a deferred ``BEGIN``, which under WAL takes no lock at all, so reads
never queue behind the single writer.
"""

from __future__ import annotations

import select

import psycopg
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
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
    if make_url(url).get_driver_name() != "psycopg" or settings.db_pre_ping:
        return create_engine(
            url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size, pool_pre_ping=True
        )
    engine = create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size, connect_args=TCP_KEEPALIVES
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
