"""The web console (/console): the clerks', leaders', units' and auditors' pages, in Vietnamese first.

Server-rendered pages (Jinja2, app/console/templates) with htmx for partial updates, vendored in
app/console/static (no Node build step, nothing loaded from another host). Every page calls the
services the API calls, with the same reader; rules are never re-decided here.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    from app.console.routes import audit, auth, documents, fallback, follow_up, inbox

    for module in (auth, documents, inbox, follow_up, audit):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(fallback.router)  # last: after every page and the static files
