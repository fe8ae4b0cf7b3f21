"""Where one registration's server CPU goes: each step of ``POST /incoming-documents`` timed alone.

``python -m bench.registration`` measures the whole request under load; this command calls the
steps the request makes, in one thread, in-process, on a fresh PostgreSQL database, and prints the
process CPU time of each (the best of ``--repeats`` rounds of ``--calls`` calls; a round's
mean, so a stray pause does not count). What the load adds on top (HTTP, the framework, the
hand-offs between threads, sharing two cores with PostgreSQL) is the difference between the
sum here and the per-registration CPU that the load benchmark reports.

    .venv/bin/python -m bench.registration.parts            # --calls 500 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from tempfile import TemporaryDirectory

from app.services.presenters import document_out
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.models.base import utcnow
from app.schemas.documents import DocumentCreate
from app.security import issue_token, read_token_claims
from app.services.accounts import user_for_token
from app.services import documents as svc
from app.services.organisation import get_register, get_user
from app.services.workflow import identities_for
from bench.common.postgres import Pg
from bench.registration.workload import CLERK, document_body, prepare_database


def cpu_ms(call: Callable[[], object], calls: int, repeats: int) -> float:
    """Best round's mean process CPU per call, in ms, after a short warm-up."""
    for _ in range(min(50, calls)):
        call()
    rounds = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls):
            call()
        rounds.append(1000 * (time.process_time() - start) / calls)
    return min(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registration.parts", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args()

    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"congvan_parts_{time.strftime('%Y%m%d_%H%M%S')}"
    pg.create_database(dbname)
    try:
        with TemporaryDirectory(prefix="congvan-parts-") as data_dir:
            settings = Settings(database_url=pg.sqlalchemy_url(dbname), data_dir=data_dir)
            prepare_database(settings)
            rows = measure(settings, args.calls, args.repeats)
    finally:
        pg.drop_database(dbname)
    width = max(len(name) for name, _ in rows)
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:7.3f} ms CPU")
    return 0


def measure(settings: Settings, calls: int, repeats: int) -> list[tuple[str, float]]:
    engine = make_engine(settings)
    reading = make_sessionmaker(engine, read_only=True, per_statement=True)
    writing = make_sessionmaker(engine, per_statement=True)
    token = issue_token(settings, CLERK, 0)
    document_date = date.today() - timedelta(days=7)
    seq = iter(range(1, 10**9))

    def authenticate():  # noqa: ANN202
        with reading() as session:
            return user_for_token(session=session, claims=read_token_claims(settings, token))

    clerk = authenticate()
    body = DocumentCreate.model_validate(document_body(1, 0, document_date))

    def register() -> None:
        data = DocumentCreate.model_validate(document_body(1, next(seq), document_date))
        with writing() as session:
            svc.register_document(session=session, actor=clerk, data=data, now=utcnow(), tz=settings.tz)
            session.commit()

    with writing() as session:
        reader = identities_for(session=session, user=clerk, today=date.today())
        written = svc.register_document(session=session, actor=clerk, data=body, now=utcnow(), tz=settings.tz)
        session.commit()

    def respond() -> bytes:
        out = document_out(written.document, reader, utcnow(), settings.tz, report_ids=[])
        return out.model_dump_json().encode()

    try:
        with writing() as session:
            steps: list[tuple[str, Callable[[], object]]] = [
                ("token decoded", lambda: read_token_claims(settings, token)),
                ("session opened and closed (a pool check-out)", lambda: reading().close()),
                ("user loaded (auth; own session)", authenticate),
                ("delegations (identities_for)", lambda: identities_for(session=session, user=clerk, today=date.today())),
                ("register loaded", lambda: get_register(session=session, code="main")),
                ("body validated (DocumentCreate)", lambda: DocumentCreate.model_validate(
                    document_body(1, 0, document_date))),
                ("register_document + commit (own session)", register),
                ("response built and serialised", respond),
            ]
            return [(name, cpu_ms(call, calls, repeats)) for name, call in steps]
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
