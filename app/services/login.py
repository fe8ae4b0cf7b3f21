"""Logging in with a password: one flow for the API's token endpoint and the web console's login page.

The throttle is asked first (app.services.throttle, from the security log), so a throttled attempt
costs no hash; the password is verified on the login gate's own threads (app.services.login_gate);
the attempt is recorded; a success gets the same signed token either way. The API hands it out as a
bearer token, the console keeps it in a cookie, so revocation, token versions and logout work alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import NotAuthenticated, TooManyRequests
from app.i18n import msg
from app.security import issue_token
from app.services import accounts
from app.services.login_gate import LoginGate
from app.services.throttle import LoginPolicy


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(settings.login_max_failures, settings.login_max_failures_per_client,
                       timedelta(minutes=settings.login_window_minutes))


async def log_in(
    *, settings: Settings, read_sessions: Callable[[], Session], write_sessions: Callable[[], Session],
    gate: LoginGate, username: str, password: str, client: str | None, now: datetime,
) -> str:
    """A signed token for ``username``, or TooManyRequests (throttled) / NotAuthenticated (wrong
    username or password: the same answer for both). Every attempt is in the security log."""
    policy = login_policy(settings)

    def before() -> tuple[int | None, str | None, int | None]:
        with read_sessions() as session:
            wait, user = accounts.login_attempt(session=session, policy=policy, username=username,
                                                client=client, now=now)
            return wait, user.password_hash if user else None, user.token_version if user else None

    def after(succeeded: bool) -> None:
        with write_sessions() as session:
            accounts.record_login(session=session, policy=policy, username=username, succeeded=succeeded,
                                  client=client, now=now)
            session.commit()

    wait, password_hash, version = await anyio.to_thread.run_sync(before)
    if wait is not None:
        raise TooManyRequests(msg("too many failed logins; try again in {seconds} seconds", seconds=wait),
                              retry_after=wait)
    ok = await gate.verify(password, password_hash) and version is not None
    await anyio.to_thread.run_sync(after, ok)
    if not ok:
        raise NotAuthenticated(msg("wrong username or password"), code="auth.wrong_credentials")
    assert version is not None
    return issue_token(settings, username, version)
