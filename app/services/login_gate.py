"""Password hashing kept off the threads that serve documents (issue 11, finding 3).

argon2id takes tens of milliseconds of CPU and 64 MiB per hash. On the shared worker threads a
flood of logins would hold them all and stall every document read behind it; here at most
``threads`` hashes run at once per process, on their own threads, and at most ``queue`` more wait
(beyond that a login gets 503 with Retry-After). Throttling by username and address comes first
(app.services.throttle), so a throttled attempt costs no hash at all.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from app.errors import ServiceUnavailable
from app.security import verify_password


class LoginsBusy(ServiceUnavailable):
    slug = "logins-busy"

    def __init__(self) -> None:
        super().__init__("too many logins at once; try again in a moment", retry_after=1)


class LoginGate:
    def __init__(self, *, threads: int, queue: int) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None  # made on first use, again after close()
        self._limit = threads + queue
        self._in_flight = 0  # touched on the event loop only

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """``verify_password`` on the gate's threads (None: a dummy hash, the same time taken)."""
        if self._in_flight >= self._limit:
            raise LoginsBusy()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="login-hash")
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, verify_password, password, password_hash)
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        """At the server's shutdown (the lifespan's end; a test client may start the app again)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
