"""The PostgreSQL server the benchmarks use: a fresh database each run, dropped at the end, and the
server's version and settings for the result (a setting such as ``synchronous_commit`` or
``shared_buffers`` changes the numbers more than most code does)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg


@dataclass
class Pg:
    host: str
    port: int
    user: str

    def conninfo(self, dbname: str) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def sqlalchemy_url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def admin(self, sql: str) -> None:
        """One statement on the ``postgres`` database, outside a transaction."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, dbname: str) -> None:
        self.admin(f'CREATE DATABASE "{dbname}"')

    def drop_database(self, dbname: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def postgresql_facts(conninfo: str, settings: Iterable[str], *, with_units: bool) -> dict[str, object]:
    """``postgresql`` (the version string) and ``postgresql_settings`` (name -> value).

    ``with_units``: values as SHOW prints them ("128MB"); otherwise pg_settings' raw ``setting``
    ("16384", in the setting's unit), as the registration results have always recorded them.
    """
    value = "current_setting(name)" if with_units else "setting"
    with psycopg.connect(conninfo) as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
        shown = dict(conn.execute(
            f"SELECT name, {value} FROM pg_settings WHERE name = ANY(%s) ORDER BY name", (list(settings),)
        ).fetchall())
    return {"postgresql": version, "postgresql_settings": shown}
