"""One error shape for every 4xx/5xx: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import json
import logging
import time
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import database_failure
from app.errors import AppError, FieldError, NotAuthenticated, ServiceUnavailable, UnsupportedMediaType, storage_failure
from app.i18n import Joined, Message, Text, msg, negotiate, render
from app.i18n.validation import field_problem
from app.schemas.common import Problem

logger = logging.getLogger("congvan")

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(
    request: Request | None,
    status: int,
    *,
    code: str,
    detail: Message,
    slug: str | None = None,
    title: Text | str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The one problem+json body: texts rendered in the language the request asked for."""
    language = negotiate(request.headers.get("accept-language") if request is not None else None)
    body: dict[str, Any] = {
        "type": f"urn:congvan:problem:{slug}" if slug else "about:blank",
        "title": render(title, language) if title is not None else _status_title(status, language),
        "status": status,
        "code": code,
        "detail": render(detail, language),
    }
    if errors is not None:
        body["errors"] = [_field_error(e, language) for e in errors]
    body.update(extra)
    headers = {**(headers or {}), "Content-Language": language}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_error(error: FieldError, language: str) -> dict[str, Any]:
    item: dict[str, Any] = {"field": error.field, "code": error.code, "message": render(error.message, language)}
    if error.line is not None:
        item.update(line=error.line, column=error.column or 0)
    return item


STATUS_TITLES = {
    400: msg("Bad request"), 401: msg("Not authenticated"), 403: msg("Forbidden"), 404: msg("Not found"),
    405: msg("Method not allowed"), 406: msg("Not acceptable"), 409: msg("Conflict"), 413: msg("Payload too large"),
    415: msg("Unsupported media type"), 422: msg("Validation failed"), 500: msg("Internal server error"),
}


def _status_title(status: int, language: str) -> str:
    title = STATUS_TITLES.get(status)
    return title.render(language) if title is not None else HTTPStatus(status).phrase


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


def _render(request: Request, exc: AppError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.headers:
        headers.update(exc.headers)
    return problem_response(
        request, exc.status, code=exc.code, slug=exc.slug, title=exc.title, detail=exc.detail, errors=exc.errors,
        headers=headers or None, **exc.extra,
    )


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _is_json_type(media_type: str) -> bool:
    return not media_type or media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


def _wrong_body_type(request: Request) -> UnsupportedMediaType | None:
    """The 415 a body of the wrong kind stands for: a form sent where JSON is read, or JSON to a form.

    FastAPI reads a non-JSON body of a JSON operation as bytes (and JSON posted to a form as an
    empty form), so the client would otherwise be told that every field is missing.
    """
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    sent = _media_type(request)
    takes_form = isinstance(body_field.field_info, params.Form)
    if takes_form and _is_json_type(sent) and sent:
        return UnsupportedMediaType(
            msg("this operation takes a form (application/x-www-form-urlencoded), not JSON"),
            code="request.form_expected")
    if not takes_form and not _is_json_type(sent):
        return UnsupportedMediaType(
            msg("this operation takes JSON (application/json), not {media_type}", media_type=sent),
            code="request.json_expected")
    return None


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    wrong_type = _wrong_body_type(request)
    if wrong_type is not None:
        return _render(request, wrong_type)
    body = getattr(exc, "body", None)
    unreadable = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if unreadable is not None:
        # Not JSON at all: there is no field to name, only where the text stops being JSON.
        position = (unreadable.get("ctx") or {}).get("error") or ""
        return problem_response(request, 400, code="request.json_invalid", slug="malformed-body",
                                detail=msg("the body is not valid JSON ({position})", position=str(position)))
    errors = [FieldError(*field_problem(error, body)) for error in exc.errors()]
    detail = Joined(tuple(msg("{field}: {message}", field=e.field, message=e.message) for e in errors))
    return problem_response(request, 422, code="validation.failed", slug="validation-error",
                            title=msg("Validation failed"), detail=detail, errors=errors)


HTTP_CODES = {400: "request.malformed", 404: "not_found", 405: "request.method", 406: "request.not_acceptable",
              413: "request.too_large", 415: "request.media_type"}
HTTP_DETAILS = {
    400: msg("the request could not be read"),
    404: msg("there is nothing at this address"),
    405: msg("this address does not take that method"),
    413: msg("the request body is too large"),
}


def install_problem_handlers(app: FastAPI) -> None:
    warnings = RateLimitedWarnings()
    app.state.failure_log = warnings

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return _render(request, exc)

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
        return _render(request, failure)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        failure = storage_failure(exc)
        if failure is None:
            return _unexpected_error(request, exc)
        warnings.warning("storage", f"507 for {request.method} {request.url.path}: {failure.detail} ({exc})")
        return _render(request, failure)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        detail: Text | str = HTTP_DETAILS.get(status) or str(exc.detail)
        if isinstance(exc.detail, Text):
            detail = exc.detail
        return problem_response(request, status, code=HTTP_CODES.get(status, f"http.{status}"), detail=detail,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _unexpected_error(request, exc)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback, answered 500."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, code="internal",
                            detail=msg("an unexpected error occurred; it has been logged"))


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
