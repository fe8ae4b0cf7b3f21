"""The console's session: the API's own signed token in a cookie, a CSRF token on every form.

Logging in (app.services.login.log_in, the API's flow: throttle, login gate, security log) gives
the same token the API hands out; the console keeps it in an HttpOnly cookie scoped to
``/console``, SameSite=Lax, Secure when the request came over TLS. So a revocation, a token-version
change, a deactivation or logging out ends a console session exactly as it ends a bearer token,
and every page checks the user against the database (app.services.accounts.user_for_token).

CSRF: each form carries an HMAC of the session token's id under the server's signing key, which
a page of another site cannot read or compute; a form without it, or with another session's, is
refused (403). The login form, before any session, carries an HMAC of a random nonce held in a
cookie of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from app.config import Settings
from app.errors import AppError, Forbidden
from app.i18n import msg
from app.models import User
from app.security import TokenClaims, read_token_claims
from app.services.accounts import user_for_token
from app.services.audit.scope import AUDIT_READERS, REGISTER_BOOK_READERS
from app.workflow.vocabulary import Role

CLERKS = frozenset({Role.clerk})  # the API's ClerkUser: registering, the inbox

SESSION_COOKIE = "congvan_session"
LOGIN_NONCE_COOKIE = "congvan_login"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: the page sends the reader to the login form, then back."""


@dataclass(frozen=True)
class ConsoleSession:
    user: User
    claims: TokenClaims
    csrf: str


def _mac(settings: Settings, purpose: str, value: str) -> str:
    return hmac.new(settings.signing_key().encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_for(settings: Settings, claims: TokenClaims) -> str:
    return _mac(settings, "csrf", claims.token_id)


def login_csrf(settings: Settings, nonce: str) -> str:
    return _mac(settings, "login", nonce)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def cookie_flags(request: Request) -> dict:
    """HttpOnly, SameSite=Lax, path /console; Secure when the page was reached over TLS (run
    uvicorn with --proxy-headers behind a TLS proxy so that the scheme is seen)."""
    return {"httponly": True, "samesite": "lax", "path": COOKIE_PATH, "secure": request.url.scheme == "https"}


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


async def current_session(request: Request) -> ConsoleSession:
    """The signed-in reader, checked against the database; LoginRequired otherwise."""
    settings = settings_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    claims = read_token_claims(settings, token)
    if claims is None or claims.scope is not None:
        raise LoginRequired
    user = await run_in_threadpool(_load_user, request, claims)
    if user is None:
        raise LoginRequired
    return ConsoleSession(user=user, claims=claims, csrf=csrf_for(settings, claims))


def _load_user(request: Request, claims: TokenClaims) -> User | None:
    with request.app.state.statement_read_sessionmaker() as session:
        return user_for_token(session=session, claims=claims)


Signed = Annotated[ConsoleSession, Depends(current_session)]


class CsrfRefused(Forbidden):
    code = "console.csrf"


def require_csrf(form: FormData, expected: str) -> None:
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise CsrfRefused(msg("the form has expired or did not come from this site; open the page again and "
                              "resend it"))


async def signed_form(request: Request, signed: Signed) -> tuple[ConsoleSession, FormData]:
    """A POSTed form of the signed-in reader whose CSRF token is theirs (403 otherwise)."""
    form = await request.form()
    require_csrf(form, signed.csrf)
    return signed, form


SignedForm = Annotated[tuple[ConsoleSession, FormData], Depends(signed_form)]

__all__ = ["AppError", "ConsoleSession", "LoginRequired", "Signed", "SignedForm", "current_session",
           "cookie_flags", "csrf_for", "login_csrf", "new_login_nonce", "require_csrf", "settings_of"]


# --- Who may open a screen: the API's role checks, one place for the console's routes and its menu.

def require_roles(signed: ConsoleSession, roles: frozenset) -> None:
    """The API's role check (app.api.deps.require_roles): the same refusal, the same code."""
    if not signed.user.roles & roles:
        raise Forbidden(msg("this needs one of the roles: {roles}", roles=", ".join(sorted(roles))), code="auth.role")


def menu_for(signed: ConsoleSession) -> dict[str, bool]:
    """Which screens the header offers: those whose role check the reader passes."""
    roles = signed.user.roles
    return {"register": bool(roles & CLERKS), "inbox": bool(roles & CLERKS),
            "register_book": bool(roles & REGISTER_BOOK_READERS), "audit": bool(roles & AUDIT_READERS)}
