"""Not product code: the shipped app with SQLite's ``synchronous=NORMAL``, as it ran before issue 11,
to measure what ``synchronous=FULL`` (a WAL sync at every commit) costs registration:

    .venv/bin/python -m bench.registration --backend sqlite --app bench.variants.sqlite_synchronous_normal:app

Everything else is the shipped code, so the A/B differs in that one pragma.
"""

from __future__ import annotations

from sqlalchemy import event

from app.main import create_app

app = create_app()
assert app.state.engine.dialect.name == "sqlite", "a SQLite variant"


@event.listens_for(app.state.engine, "connect")
def _normal(dbapi_connection, _record) -> None:  # noqa: ANN001 - runs after the app's own connect listener
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
