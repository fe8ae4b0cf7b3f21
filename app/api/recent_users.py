"""Users authenticated in the last few seconds, by bearer token (``CONGVAN_AUTH_CACHE_SECONDS``).

Every request authenticates, and loading the user is most of what a small request costs: a
hand-off to a worker thread, a pool check-out and an ORM query of the user with unit and roles
(bench/README.md). Clients send requests in bursts (a page of the web client, a clerk's batch of
registrations), so the same token comes back within seconds. For that window the user loaded
for the token is reused.

The price is that window: a user deactivated or given other roles in the database keeps what
they had for at most ``seconds`` in each server process (the token itself stays valid for
hours). The API has no endpoint that changes a user; whoever adds one should call
:meth:`RecentUsers.forget_all` from it, which clears this process's cache only (other worker
processes still wait out the window). ``0`` turns the cache off.

The users kept here are detached from any session and shared by concurrent requests: they are
read, never changed or added to a session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.models import User


class RecentUsers:
    """A bounded map from token to (user, until when), safe to share between worker threads."""

    def __init__(
        self,
        seconds: float,
        *,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()
        self.generation = 0  # bumped by forget_all; see put

    def get(self, token: str) -> User | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        user, until = entry
        # An expired entry stays until ``put`` replaces it or makes room: removing it here,
        # outside the lock, could change the map while ``_make_room`` walks it.
        return user if self._clock() < until else None

    def put(self, token: str, user: User, *, token_expires_at: float, generation: int) -> None:
        """Keep ``user`` for ``token`` for the window, never past the token's own expiry (Unix time).

        ``generation`` is :attr:`generation` as read before the user was loaded: a user loaded
        before a ``forget_all`` may be stale and is not kept.
        """
        if self.seconds <= 0:
            return
        lifetime = min(self.seconds, token_expires_at - self._wall_clock())
        if lifetime <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            self._entries.pop(token, None)  # a refreshed entry becomes the newest
            if len(self._entries) >= self.max_entries:
                self._make_room()
            self._entries[token] = (user, self._clock() + lifetime)

    def forget_all(self) -> None:
        """Forget every user in this process, and refuse users loaded before this call."""
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _make_room(self) -> None:
        now = self._clock()
        for token in [t for t, (_, until) in self._entries.items() if until <= now]:
            del self._entries[token]
        while len(self._entries) >= self.max_entries:  # all still fresh: drop the oldest
            del self._entries[next(iter(self._entries))]
