"""Logging in and out of the console, and choosing its language."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.console.deps import DB
from app.console.pages import LANGUAGE_COOKIE, page
from app.console.routing import PageRoute
from app.console.session import (
    LOGIN_NONCE_COOKIE,
    SESSION_COOKIE,
    SignedForm,
    cookie_flags,
    login_csrf,
    new_login_nonce,
    require_csrf,
    settings_of,
)
from app.errors import NotAuthenticated, TooManyRequests
from app.i18n import LANGUAGES
from app.models.base import utcnow
from app.services import accounts
from app.services.login import log_in

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a console path of this site only (never another host)."""
    if not target:
        return "/console/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console") or target.startswith("//"):
        return "/console/"
    return target


def _login_page(request: Request, *, status: int = 200, error=None, username: str = "", next_url: str = "/console/"):
    nonce = new_login_nonce()
    response = page(request, "login.html", status=status, error=error, username=username, next_url=next_url,
                    csrf=login_csrf(settings_of(request), nonce))
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, max_age=3600, **cookie_flags(request))
    if error is not None and error.headers:
        response.headers.update(error.headers)
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_url=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    settings = settings_of(request)
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE) or ""
    require_csrf(form, login_csrf(settings, nonce) if nonce else "")
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or ""))
    try:
        token = await log_in(
            settings=settings, read_sessions=request.app.state.statement_read_sessionmaker,
            write_sessions=request.app.state.sessionmaker, gate=request.app.state.login_gate,
            username=username, password=password, client=request.client.host if request.client else None,
            now=utcnow(),
        )
    except (NotAuthenticated, TooManyRequests) as error:
        return _login_page(request, status=error.status, error=error, username=username, next_url=next_url)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.token_ttl_minutes * 60, **cookie_flags(request))
    response.delete_cookie(LOGIN_NONCE_COOKIE, path=cookie_flags(request)["path"])
    return response


@router.post("/logout")
def logout(request: Request, signed_form: SignedForm, session: DB) -> Response:
    """Ends the session's token for good (revoked, as the API's logout does), then the cookie."""
    signed, _ = signed_form
    accounts.logout(session=session, user=signed.user, claims=signed.claims, now=utcnow(),
                    client=request.client.host if request.client else None)
    session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=cookie_flags(request)["path"])
    return response


@router.get("/language/{lang}")
async def choose_language(request: Request, lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, **cookie_flags(request))
    return response


