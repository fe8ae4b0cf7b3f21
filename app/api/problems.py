"""One error shape for every 4xx/5xx: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, NotAuthenticated
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


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        if exc.headers:
            headers = {**(headers or {}), **exc.headers}
        return problem_response(
            exc.status, slug=exc.slug, title=exc.title, detail=exc.detail, errors=exc.errors, headers=headers, **exc.extra
        )

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
        logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(500, detail="An unexpected error occurred; it has been logged.")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route can give."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}


PROBLEM_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}


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
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_SCHEMA_REF)}}
    components = schema.get("components", {}).get("schemas", {})
    rendered = json.dumps(schema.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in rendered:
            components.pop(unused, None)
    return schema
