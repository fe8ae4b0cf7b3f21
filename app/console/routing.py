"""Console routes answer with pages: a domain error is an error page, no session is the login form.

The API answers the same errors as problem+json (app.api.problems); a console route instead
renders them for a person, in their language, with the same status: a hidden or missing document
is a 404 page, a form from another site a 403 page, the database down a 503 page. Routes of the
console use :class:`PageRoute`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.console.pages import page
from app.console.session import LoginRequired
from app.db import database_failure
from app.errors import AppError, NotFound, ServiceUnavailable, storage_failure
from app.i18n import msg

logger = logging.getLogger("congvan")


def to_login(request: Request) -> Response:
    """Back to the login form, returning here after (htmx follows ``HX-Redirect``)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/console/login?next={quote(target, safe='')}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_page(request: Request, error: AppError) -> Response:
    headers = dict(error.headers or {})
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    return page(request, "error.html", status=error.status, headers=headers, error=error)


def _log_failure(request: Request, kind: str, failure: AppError, exc: BaseException) -> None:
    """One line per kind every few seconds, shared with the API's (app.api.problems): an outage
    refuses every request, and the log must stay readable."""
    line = f"{failure.status} for {request.method} {request.url.path}: {failure.detail} ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    failure_log = getattr(request.app.state, "failure_log", None)
    if failure_log is not None:
        failure_log.warning(kind, line)
    else:
        logger.warning(line)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return to_login(request)
            except AppError as error:
                return error_page(request, error)
            except RequestValidationError:
                # A page's own parameters (an id in the path, a filter) that do not parse.
                return error_page(request, NotFound(msg("there is nothing at this address"), code="not_found"))
            except StarletteHTTPException as exc:
                if exc.status_code == 404:
                    return error_page(request, NotFound(msg("there is nothing at this address"), code="not_found"))
                raise
            except OSError as exc:
                failure = storage_failure(exc)
                if failure is None:
                    raise
                _log_failure(request, "storage", failure, exc)
                return error_page(request, failure)
            except Exception as exc:
                failure = database_failure(exc)
                if failure is None:
                    raise
                _log_failure(request, f"database-{failure.status}", failure, exc)
                return error_page(request, failure)

        return answer
