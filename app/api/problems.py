"""One error shape for every 4xx/5xx: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import json
import logging
import time
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import database_failure
from app.errors import AppError, NotAuthenticated, ServiceUnavailable, storage_failure
from app.schemas.common import Problem

logger = logging.getLogger("congvan")

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:congvan:problem:{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


class RateLimitedWarnings:
    """At most one log line per kind of failure every ``every_s`` seconds, saying how many it stands
    for: a database outage under load is one fact, not a traceback for each of a thousand requests.

    Used from the event loop only (exception handlers are ``async``), so it needs no lock.
    """

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._since: dict[str, int] = {}

    def warning(self, kind: str, message: str) -> bool:
        """Log ``message`` unless this kind was logged less than ``every_s`` ago; whether it was."""
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.every_s:
            self._since[kind] = self._since.get(kind, 0) + 1
            return False
        more = self._since.pop(kind, 0)
        self._last[kind] = now
        suffix = f" ({more} more since the last report)" if more else ""
        logger.warning("%s%s", message, suffix)
        return True


def _render(exc: AppError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.headers:
        headers.update(exc.headers)
    return problem_response(
        exc.status, slug=exc.slug, title=exc.title, detail=exc.detail, errors=exc.errors, headers=headers or None,
        **exc.extra,
    )


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def install_problem_handlers(app: FastAPI) -> None:
    warnings = RateLimitedWarnings()
    app.state.failure_log = warnings

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return _render(exc)

    # Handlers for these classes (not only for Exception) so that Starlette's ExceptionMiddleware
    # answers them: the catch-all below runs in ServerErrorMiddleware, which re-raises after
    # answering, and the server then logs a traceback for every request.
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeoutError)
    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        failure = database_failure(exc)
        if failure is None:
            return _unexpected_error(request, exc)
        warnings.warning(
            f"database-{failure.status}",
            f"{failure.status} for {request.method} {request.url.path}: {failure.detail} ({_first_line(exc)})",
        )
        return _render(failure)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        failure = storage_failure(exc)
        if failure is None:
            return _unexpected_error(request, exc)
        warnings.warning("storage", f"507 for {request.method} {request.url.path}: {failure.detail} ({exc})")
        return _render(failure)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_name(tuple(e.get("loc", ()))), "message": _validation_message(e)} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(422, slug="validation-error", title="Validation failed", detail=detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, detail=str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _unexpected_error(request, exc)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback, answered 500."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, detail="An unexpected error occurred; it has been logged.")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route can give."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}


PROBLEM_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}
MAX_JSON_BODY_KB = 1024  # app.api.limits.JsonBodyLimit's cap (1 MB), documented on every JSON operation


def _is_problem(response: dict[str, Any]) -> bool:
    """Whether a documented error response is a problem (not, say, /health's own body at 503)."""
    refs = [c.get("schema", {}).get("$ref", "") for c in response.get("content", {}).values()]
    return not refs or all(r.endswith(("/Problem", "/HTTPValidationError")) or not r for r in refs)


def use_problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """Document error bodies as they are sent: ``application/problem+json`` with the Problem schema.

    FastAPI adds a 422 with its own ``HTTPValidationError`` shape to every operation that takes
    parameters; our handler answers with a Problem instead, so that entry is rewritten too. An
    operation with a request body also answers 400 when the body cannot be parsed at all (e.g. it
    is not UTF-8); that is declared here for all of them at once.
    """
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if "requestBody" in operation and "400" not in responses:
                responses["400"] = {"description": "Malformed request body (not parseable at all)"}
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                responses.setdefault("413", {"description": f"JSON body over {MAX_JSON_BODY_KB} KB"})
            responses.setdefault("503", {"description": "The database is unavailable; retry after `Retry-After` seconds"})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400 and _is_problem(response):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_SCHEMA_REF)}}
    components = schema.get("components", {}).get("schemas", {})
    rendered = json.dumps(schema.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in rendered:
            components.pop(unused, None)
    return schema
