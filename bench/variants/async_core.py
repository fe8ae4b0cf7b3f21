"""An upper bound, not product code: registration as an ``async`` endpoint on SQLAlchemy Core's
asyncio engine (psycopg's async connection), with no worker thread and no ORM query.

It answers the question the registration target raises: how fast can this stack (FastAPI,
pydantic, SQLAlchemy, psycopg) register on this machine if the shipped design's costs (the
thread hand-off, ORM sessions, the sync driver) are taken away? It serves only the clerks'
ordinary case: no Idempotency-Key, no duplicate handling, no confidential registers, the
clerk holding no delegation; everything else goes to the real app, mounted behind it.

    PYTHONPATH=bench/variants .venv/bin/python -m bench.registration --raw none --app async_core:application
    CONGVAN_VARIANT_ONLY_THE_WRITE=1 ...   # also skip the delegation and register queries

PostgreSQL only (``CONGVAN_DATABASE_URL`` from the benchmark).
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Response
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.api.deps import ClerkUser, Now
from app.services.presenters import document_out
from app.main import create_app
from app.models import IncomingDocument, Register
from app.schemas.documents import DocumentCreate, DocumentOut
from app.services import numbering
from app.services.delegations import _DELEGATOR_IDS
from app.services.documents import registration_rows
from app.services.workflow import Identity, actor_of

ONLY_THE_WRITE = bool(os.environ.get("CONGVAN_VARIANT_ONLY_THE_WRITE"))

real = create_app()
settings = real.state.settings
engine = create_async_engine(
    settings.resolved_database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size
).execution_options(isolation_level="AUTOCOMMIT")
REGISTER = select(Register.id, Register.code, Register.name, Register.confidential).where(
    Register.code == bindparam("code")
)
MAIN = Register(id=1, code="main", name="main", confidential=False)  # the migration's register

application = FastAPI()
application.state.settings = settings
application.state.recent_users = real.state.recent_users
application.state.statement_read_sessionmaker = real.state.statement_read_sessionmaker


@application.post("/api/v1/incoming-documents", status_code=201, response_model=DocumentOut)
async def register(body: DocumentCreate, response: Response, clerk: ClerkUser, now: Now) -> DocumentOut:
    async with engine.connect() as conn:
        if ONLY_THE_WRITE:
            register_ = MAIN
        else:
            today = now.astimezone(settings.tz).date()
            delegators = (await conn.execute(_DELEGATOR_IDS, {"user_id": clerk.id, "today": today})).scalars().all()
            if delegators:
                raise NotImplementedError("the variant serves clerks without delegations only")
            row = (await conn.execute(REGISTER, {"code": body.register_code})).one()
            register_ = Register(id=row.id, code=row.code, name=row.name, confidential=row.confidential)
        rows = registration_rows(register=register_, actor=clerk, data=body, now=now, tz=settings.tz, idempotency_key=None)
        params = {
            **{f"document_{name}": value for name, value in rows.document.items()},
            **{f"event_{name}": value for name, value in rows.event.items()},
        }
        written = (await conn.execute(numbering._one_statement(with_key=False), params)).one()
    document = IncomingDocument(
        **rows.document, id=written.id, arrival_number=written.arrival_number, register=register_,
        created_by=clerk, assignments=[],
    )
    response.headers["ETag"] = '"1"'
    return document_out(document, [Identity(actor_of(clerk), clerk, None)], now, settings.tz, report_ids=[])


application.mount("/", real)
