"""The background worker: every queue of the service, one loop.

Each pass delivers the exchange outbox's status messages, runs the working day's reminder scan
when it is due and sends the digests, delivers webhooks, and verifies the signatures of large
PDFs. Every queue is claimed under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so
several workers on one database never deliver an item twice; SQLite runs one.

``congvan worker`` runs it in the foreground; ``congvan serve`` runs one on a thread unless
``CONGVAN_RUN_WORKER=false``. A failing pass (the database away, a bug) is logged and retried
after a pause; it never ends the loop. The clock is a parameter of every pass (tests move it).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.models.base import utcnow
from app.services import follow_up, webhooks
from app.services.exchange_delivery import DeliveryConfig, deliver_due
from app.services.signatures import Verification, verification_for, verify_pending

logger = logging.getLogger("congvan.worker")
ERROR_PAUSE_S = 10.0


@dataclass(frozen=True)
class WorkerConfig:
    exchange: DeliveryConfig
    follow_up: follow_up.FollowUpConfig
    webhooks: webhooks.DeliveryPolicy
    verification: Verification


def worker_config(settings: Settings) -> WorkerConfig:
    hour, minute = (int(part) for part in settings.digest_at.split(":"))
    return WorkerConfig(
        exchange=DeliveryConfig(endpoint=settings.exchange_endpoint, timeout_s=settings.exchange_timeout_s,
                                retry_base_s=settings.exchange_retry_base_s),
        follow_up=follow_up.FollowUpConfig(
            tz=settings.tz, due_soon_days=settings.due_soon_days, digest_at=time(hour, minute),
            smtp_url=settings.smtp_url.get_secret_value() if settings.smtp_url else None,
            mail_from=settings.mail_from, console_url=settings.console_url),
        webhooks=webhooks.DeliveryPolicy(allow_private=settings.webhook_allow_private),
        verification=verification_for(settings),
    )


def run_pass(factory: sessionmaker[Session], config: WorkerConfig, *, now: datetime | None = None) -> dict[str, int]:
    """Everything that is due at ``now``, once; returns what was done, per queue."""
    now = now or utcnow()
    outbox = deliver_due(factory, config.exchange, now=now)
    scanned = follow_up.run_daily_scan(factory, config.follow_up, now=now)
    digests = follow_up.send_digests(factory, config.follow_up, now=now)
    delivered = webhooks.deliver_due(factory, config.webhooks, now=now)
    verified = 0
    while checked := verify_pending(factory, config.verification, now=now):
        verified += checked
    return {"status_messages_sent": outbox.sent, "reminders": scanned or 0, "digests_sent": digests,
            "webhooks_delivered": delivered, "signatures_verified": verified}


def run(settings: Settings, stop: threading.Event) -> None:
    """Run passes every ``worker_poll_s`` seconds until ``stop`` is set."""
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    config = worker_config(settings)
    if not config.exchange.endpoint:
        logger.warning("CONGVAN_EXCHANGE_ENDPOINT is not set: status messages wait in the outbox")
    try:
        while not stop.is_set():
            pause = settings.worker_poll_s
            try:
                done = {k: v for k, v in run_pass(factory, config).items() if v}
                if done:
                    logger.info("worker: %s", ", ".join(f"{k} {v}" for k, v in done.items()))
            except Exception:  # noqa: BLE001 - the loop outlives any one pass
                logger.exception("a worker pass failed; retrying in %.0f s", ERROR_PAUSE_S)
                pause = ERROR_PAUSE_S
            stop.wait(pause)
    finally:
        engine.dispose()


def start_in_thread(settings: Settings) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(settings, stop), name="congvan-worker", daemon=True)
    thread.start()
    return thread, stop
