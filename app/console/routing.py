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
from app.errors import AppError, NotFound, storage_failure
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
    return page(request, "error.html", status=error.status, headers=headers, error=error)


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
                return error_page(request, failure)
            except Exception as exc:
                failure = database_failure(exc)
                if failure is None:
                    raise
                logger.warning("%s for %s %s: %s", failure.status, request.method, request.url.path, failure.detail)
                return error_page(request, failure)

        return answer
