"""The connection pool on PostgreSQL: a connection the server closed is never handed to a request.

The pool does not ping each connection it hands out (a round trip per check-out); it discards
those whose socket shows the server hung up (``app.db._refuse_connections_the_server_closed``).
This is what a database restart does to every pooled connection.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from app.db import TCP_KEEPALIVES, make_engine
from tests.conftest import login


def _terminate_other_backends(url: str) -> int:
    """End every other session on this database, as a server restart would; wait until they are gone."""
    killer = create_engine(url, poolclass=NullPool)
    try:
        with killer.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            ended = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalar_one()
            for _ in range(100):
                left = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )).scalar_one()
                if left == 0:
                    break
                time.sleep(0.05)
            return ended
    finally:
        killer.dispose()


def test_requests_after_the_server_closed_every_pooled_connection_succeed(client, engine: Engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to close connections")
    headers = login(client, "clerk")
    # Fill the pool with a few idle connections: parallel requests would, one after another reuses one.
    for _ in range(3):
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    pool = client.app.state.engine.pool
    assert pool.checkedin() >= 1, "the app's pool should hold an idle connection to be closed"

    ended = _terminate_other_backends(engine.url.render_as_string(hide_password=False))
    assert ended >= pool.checkedin()

    for _ in range(pool.checkedin() + 2):
        response = client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["username"] == "clerk"
    documents = client.get("/api/v1/incoming-documents", headers=headers)
    assert documents.status_code == 200, documents.text


@contextmanager
def _own_engine(settings, **changes):
    """A PostgreSQL engine of the app's own making (``changes`` to its settings), disposed after."""
    if not settings.resolved_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite's connections have no server side")
    engine = make_engine(settings.model_copy(update=changes))
    try:
        yield engine
    finally:
        engine.dispose()


def test_a_pooled_connection_closed_on_our_side_is_replaced(settings):
    with _own_engine(settings) as engine:
        with engine.connect() as conn:
            closed_underneath = conn.connection.dbapi_connection
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        closed_underneath.close()  # back in the pool, but closed
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection is not closed_underneath
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != first_pid


def test_connections_send_tcp_keepalives_and_the_ping_can_be_turned_back_on(settings):
    with _own_engine(settings) as engine:
        with engine.connect() as conn:
            parameters = conn.connection.dbapi_connection.info.get_parameters()
        assert {name: parameters.get(name) for name in TCP_KEEPALIVES} == {
            name: str(value) for name, value in TCP_KEEPALIVES.items()
        }
        assert engine.pool._pre_ping is False  # the socket check instead
    with _own_engine(settings, db_pre_ping=True) as pinging:
        assert pinging.pool._pre_ping is True
        with pinging.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
