"""Any other address under /console: a 404 page, in the reader's language (not the API's JSON)."""

from __future__ import annotations

from fastapi import APIRouter

from app.console.routing import PageRoute
from app.errors import NotFound
from app.i18n import msg

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)


@router.api_route("/{rest:path}", methods=["GET", "HEAD", "POST"])
async def nothing_here(rest: str) -> None:
    raise NotFound(msg("there is nothing at this address"), code="not_found")
