"""Password hashing (argon2 via pwdlib) and bearer tokens (HS256 JWT via PyJWT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from pwdlib import PasswordHash

from app.config import Settings

_hasher = PasswordHash.recommended()  # argon2id
# Verifying against this keeps the login time the same whether or not the user exists.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


def issue_token(settings: Settings, username: str) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": username, "iat": now, "exp": now + timedelta(minutes=settings.token_ttl_minutes)}
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM)


@dataclass(frozen=True)
class TokenClaims:
    username: str
    expires_at: float  # Unix time


def read_token_claims(settings: Settings, token: str) -> TokenClaims | None:
    """Who a valid, unexpired token names and until when, or None."""
    try:
        claims = jwt.decode(token, settings.signing_key(), algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError:
        return None
    sub, exp = claims.get("sub"), claims.get("exp")
    if not isinstance(sub, str) or not isinstance(exp, int | float):
        return None
    return TokenClaims(sub, float(exp))
