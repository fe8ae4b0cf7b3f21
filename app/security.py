"""Password hashing (argon2 via pwdlib) and bearer tokens (HS256 JWT via PyJWT)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from pwdlib import PasswordHash

from app.config import Settings
from app.i18n import Text, msg

_hasher = PasswordHash.recommended()  # argon2id
# Verifying against this keeps the login time the same whether or not the user exists.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

ALGORITHM = "HS256"


PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256


def password_problem(password: str, username: str) -> Text | None:
    """What is wrong with ``password`` as ``username``'s new password, or None: the one password
    rule, for the API and the CLI alike."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return msg("must be at least {min_length} characters", min_length=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        return msg("must be at most {max_length} characters", max_length=PASSWORD_MAX_LENGTH)
    if password.casefold() == username.casefold() or len(set(password)) < 3:
        return msg("is too easy to guess (the username, or too few different characters)")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


# Seconds a token's ``iat`` may lie ahead of this server's clock (several servers' clocks differ).
CLOCK_SKEW_SECONDS = 60


def issue_token(settings: Settings, username: str, token_version: int) -> str:
    """A bearer token: who (``sub``), under which token version (``ver``, app.models.User), its
    own id (``jti``, for logout), when issued and until when (``settings.token_ttl_minutes``)."""
    now = datetime.now(timezone.utc)
    claims = {"sub": username, "ver": token_version, "jti": secrets.token_urlsafe(16),
              "iat": now, "exp": now + timedelta(minutes=settings.token_ttl_minutes)}
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM)


@dataclass(frozen=True)
class TokenClaims:
    username: str
    version: int
    token_id: str
    issued_at: float  # Unix time
    expires_at: float  # Unix time
    # A slip link's token opens one document's printable slip and nothing else (issue_slip_link).
    scope: str | None = None
    document_id: int | None = None


SLIP_SCOPE = "slip"


def issue_slip_link(settings: Settings, claims: TokenClaims, document_id: int) -> tuple[str, datetime]:
    """A token that opens ``document_id``'s printable slip for ``settings.slip_link_minutes``.

    It is the caller's token narrowed: the same user, token version and token id (so logging that
    session out, revoking the user's tokens or deactivating the user ends the link too), a scope
    that only the slip page accepts, and an expiry no later than the caller's own."""
    now = datetime.now(timezone.utc).replace(microsecond=0)  # a JWT's times are whole seconds
    expires = min(now + timedelta(minutes=settings.slip_link_minutes),
                  datetime.fromtimestamp(claims.expires_at, timezone.utc))
    token = jwt.encode({"sub": claims.username, "ver": claims.version, "jti": claims.token_id, "iat": now,
                        "exp": expires, "scope": SLIP_SCOPE, "doc": document_id},
                       settings.signing_key(), algorithm=ALGORITHM)
    return token, expires


def read_token_claims(settings: Settings, token: str) -> TokenClaims | None:
    """What a valid, unexpired token says, or None.

    Besides the signature and the expiry: a token must say when it was issued and may live no
    longer than ``settings.token_ttl_minutes`` from then (a token with an ``exp`` years ahead is
    refused even though its signature is good), and must carry its version and id. Whether the
    user still holds it (version, revocation, deactivation) is the database's answer
    (app.services.accounts.user_for_token)."""
    try:
        claims = jwt.decode(token, settings.signing_key(), algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp", "iat", "ver", "jti"]})
    except jwt.PyJWTError:
        return None
    sub, ver, jti, iat, exp = (claims.get(k) for k in ("sub", "ver", "jti", "iat", "exp"))
    if not (isinstance(sub, str) and isinstance(jti, str) and len(jti) <= 64 and type(ver) is int
            and isinstance(iat, int | float) and isinstance(exp, int | float)):
        return None
    if exp - iat > settings.token_ttl_minutes * 60 or iat > time.time() + CLOCK_SKEW_SECONDS:
        return None
    scope, doc = claims.get("scope"), claims.get("doc")
    if scope is not None and not (scope == SLIP_SCOPE and type(doc) is int):
        return None
    return TokenClaims(sub, ver, jti, float(iat), float(exp), scope, doc)
