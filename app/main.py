"""The ASGI application: ``app.main:app`` (uvicorn) or ``create_app(settings)`` (tests, CLI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app import __doc__ as description
from app import console
from app.api.limits import JsonBodyLimit, UploadSizeLimit
from app.api.problems import install_problem_handlers, use_problem_media_type
from app.services.login_gate import LoginGate
from app.api.routes import (
    attachments,
    audit,
    auth,
    calendar,
    delegations,
    documents,
    exchange,
    follow_up,
    organisation,
    reports,
    system,
    workflow,
)
from app.config import Settings
from app.services.signatures import verification_for
from app.db import make_engine, make_sessionmaker
from app.reports.sources import MAX_APPENDIX_BYTES
from app.services.attachments import sweep_stale_uploads

API_PREFIX = "/api/v1"
VERSION = "1.0.0"

TAGS = [
    {"name": "auth", "description": "Log in (OAuth2 password flow) and read the current user."},
    {"name": "organisation", "description": "Units, users and registers."},
    {"name": "documents", "description": "Register and find incoming documents (văn bản đến)."},
    {"name": "workflow", "description": "The processing slip: actions, events, the slip as JSON, HTML and PDF."},
    {"name": "attachments", "description": "Files that came with a document."},
    {"name": "delegations", "description": "Leaders lending their authority (ủy quyền) for a period."},
    {"name": "calendar", "description": "Working days: Vietnam's public holidays plus admin overrides."},
    {"name": "reports", "description": "Reports (báo cáo) and their appendices (phụ lục) as records: import, "
                                    "projects across reports, summary, comparison."},
    {"name": "audit", "description": "Processing times, stage durations, overdue work, Decree 30 timeliness."},
    {"name": "exchange", "description": "Electronic documents (edXML, QCVN 102:2016) from the national document "
     "hub: the inbox, the clerk's decisions, status messages to senders."},
    {"name": "follow-up", "description": "Notifications, webhooks for partner systems, the background worker's "
     "queues (đôn đốc)."},
    {"name": "system", "description": "Health."},
]


def operation_id(route: APIRoute) -> str:
    """Readable operationIds: ``documents-register``, ``units-list``, ``auth-token``."""
    if "-" in route.name:
        return route.name
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        # Sync endpoints and dependencies run on this pool of threads.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        sweep_stale_uploads(settings.attachments_dir)
        yield
        application.state.login_gate.close()

    app = FastAPI(
        lifespan=lifespan,
        title="congvan",
        summary="Incoming official documents (công văn đến): registration, processing slip, audit",
        description=description or "",
        version=VERSION,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
    )
    app.state.settings = settings
    engine = make_engine(settings)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.read_sessionmaker = make_sessionmaker(engine, read_only=True)
    app.state.statement_sessionmaker = make_sessionmaker(engine, per_statement=True)
    app.state.statement_read_sessionmaker = make_sessionmaker(engine, read_only=True, per_statement=True)
    app.state.verification = verification_for(settings)
    app.state.login_gate = LoginGate(threads=settings.login_hash_threads, queue=settings.login_queue)

    api = APIRouter(prefix=API_PREFIX)
    for module in (auth, organisation, documents, workflow, attachments, delegations, calendar, audit, reports,
                   exchange, follow_up):
        api.include_router(module.router)
    api.include_router(reports.projects_router)
    api.include_router(exchange.documents_router)
    app.include_router(api)
    app.include_router(system.router)
    app.include_router(system.router, prefix=API_PREFIX, include_in_schema=False)
    system.install_docs(app)
    console.install(app)

    install_problem_handlers(app)
    app.add_middleware(UploadSizeLimit, max_bytes=settings.max_upload_bytes, appendix_max_bytes=MAX_APPENDIX_BYTES,
                       exchange_max_bytes=settings.exchange_max_mb * 1024 * 1024)
    app.add_middleware(JsonBodyLimit)
    _install_openapi(app)
    return app


def _install_openapi(app: FastAPI) -> None:
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = use_problem_media_type(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    """``app.main:app`` is built on first access, from the environment's settings.

    Lazy so that importing this module (tests, the CLI) does not touch the default data dir.
    """
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        _app = create_app()
    return _app
