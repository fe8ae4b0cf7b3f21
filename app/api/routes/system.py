"""Health, and the API documentation served from the app itself.

Agencies run on closed networks: FastAPI's default ``/docs`` loads Swagger UI from a CDN
and renders a blank page there. We serve the same pages with their JavaScript and CSS from
the ``fastapi-offline`` package's static files (FastAPI's documented self-hosting recipe).

One thing in those bundles still reaches out to the internet: ReDoc's sidebar shows
Redocly's logo from cdn.redoc.ly, unconditionally. So both pages carry a
Content-Security-Policy that lets them load nothing from anywhere but the app itself: the
browser never makes such a request (tests/test_docs_browser.py checks this in chromium).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from typing import Literal

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from app.api.deps import SettingsDep
from app.db import database_problem
from app.services.attachments import storage_problem

DOCS_STATIC_URL = "/static/docs"
DOCS_STATIC_DIR = Path(fastapi_offline.__file__).parent / "static"

router = APIRouter(tags=["system"])

# Inline script and styles: Swagger UI is started by an inline <script>, and both UIs style
# elements inline. Images from data: URLs are the UIs' own icons.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; form-action 'self'; frame-ancestors 'self'"
)


Status = Literal["ok", "unavailable"]


class DatabaseHealth(BaseModel):
    status: Status
    backend: str = Field(description="sqlite or postgresql")
    reason: str | None = Field(default=None, description="Why it is unavailable")


class StorageHealth(BaseModel):
    status: Status
    free_bytes: int | None = Field(default=None, description="Free space on the attachments' file system")
    reason: str | None = Field(default=None, description="Why it is unavailable (full, read-only, ...)")


class Health(BaseModel):
    status: Status = Field(description="ok when the database and the storage both are")
    database: DatabaseHealth
    storage: StorageHealth


@router.get(
    "/health", name="health", response_model=Health,
    responses={503: {"model": Health, "description": "The database or the attachments' storage is unavailable"}},
)
def health(request: Request, response: Response, settings: SettingsDep) -> Health:
    """The database (a query) and the attachments' storage (a file written, synced and removed),
    each ``ok`` or ``unavailable`` with the reason; 503 when either is down. Needs no token."""
    engine = request.app.state.engine
    db_reason = database_problem(engine)
    free_bytes, storage_reason = storage_problem(settings.attachments_dir)
    body = Health(
        status="ok" if db_reason is None and storage_reason is None else "unavailable",
        database=DatabaseHealth(
            status="ok" if db_reason is None else "unavailable", backend=engine.dialect.name, reason=db_reason
        ),
        storage=StorageHealth(
            status="ok" if storage_reason is None else "unavailable", free_bytes=free_bytes, reason=storage_reason
        ),
    )
    if body.status != "ok":
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    return body


def install_docs(app: FastAPI) -> None:
    app.mount(DOCS_STATIC_URL, StaticFiles(directory=DOCS_STATIC_DIR), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} – API",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{DOCS_STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC_URL}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )
        return _offline(page)

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} – API reference",
            redoc_js_url=f"{DOCS_STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
        return _offline(page)


def _offline(page: HTMLResponse) -> HTMLResponse:
    """The docs page, allowed to load nothing from outside the app."""
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
