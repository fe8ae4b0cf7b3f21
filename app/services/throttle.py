"""The login throttle (issue 11, finding 3), from the security log, so every server process agrees.

A username with ``max_failures`` wrong passwords within the window, counted since its last
successful login, is refused (429) until the oldest of those failures leaves the window; so is a
client address with ``max_failures_per_client``. Refused attempts are not verified and not counted
(an attacker cannot keep a user locked out beyond one window by trying on). Unknown usernames are
counted exactly like known ones, so the answers do not tell them apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import SecurityEvent
from app.services import security_log


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    max_failures_per_client: int
    window: timedelta


def retry_after(*, session: Session, policy: LoginPolicy, username: str, client: str | None, now: datetime) -> int | None:
    """Seconds until ``username`` may try from ``client`` again, or None: they may now."""
    start = now - policy.window
    username, client = security_log.subject(username) or "", security_log.subject(client)
    last_success = (
        select(func.max(SecurityEvent.at))
        .where(SecurityEvent.username == username, SecurityEvent.kind == "login_succeeded", SecurityEvent.at >= start)
        .scalar_subquery()
    )
    by_user = session.scalars(
        select(SecurityEvent.at)
        .where(SecurityEvent.username == username, SecurityEvent.kind == "login_failed", SecurityEvent.at >= start,
               SecurityEvent.at > func.coalesce(last_success, start - timedelta(seconds=1)))
        .order_by(SecurityEvent.at.desc())
        .limit(policy.max_failures)
    ).all()
    waits = []
    if len(by_user) >= policy.max_failures:
        waits.append(by_user[-1] + policy.window - now)
    if client:
        by_client = session.scalars(
            select(SecurityEvent.at)
            .where(SecurityEvent.client == client, SecurityEvent.kind == "login_failed", SecurityEvent.at >= start)
            .order_by(SecurityEvent.at.desc())
            .limit(policy.max_failures_per_client)
        ).all()
        if len(by_client) >= policy.max_failures_per_client:
            waits.append(by_client[-1] + policy.window - now)
    if not waits:
        return None
    return max(1, math.ceil(max(waits).total_seconds()))


def reaches_limit(*, session: Session, policy: LoginPolicy, username: str, now: datetime) -> bool:
    """Whether the failure just recorded for ``username`` locks it (for the ``login_locked`` entry)."""
    return retry_after(session=session, policy=policy, username=username, client=None, now=now) is not None
