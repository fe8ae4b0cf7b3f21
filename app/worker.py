"""The background worker: delivers the exchange outbox's status messages and verifies the
signatures of large PDFs, again and again.

``congvan worker`` runs it in the foreground (a deployment that separates web and worker
processes runs one or several; on PostgreSQL they never send one message twice, see
app.services.exchange_delivery); ``congvan serve`` runs one on a thread unless
``CONGVAN_RUN_WORKER=false``. A failing pass (the database away, a bug) is logged and retried
after a pause; it never ends the loop.
"""

from __future__ import annotations

import logging
import threading

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.services.exchange_delivery import DeliveryConfig, deliver_due
from app.services.signatures import verification_for, verify_pending

logger = logging.getLogger("congvan.worker")
ERROR_PAUSE_S = 10.0


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(endpoint=settings.exchange_endpoint, timeout_s=settings.exchange_timeout_s,
                          retry_base_s=settings.exchange_retry_base_s)


def run(settings: Settings, stop: threading.Event) -> None:
    """Deliver what is due every ``worker_poll_s`` seconds until ``stop`` is set."""
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    config = delivery_config(settings)
    verification = verification_for(settings)
    if not config.endpoint:
        logger.warning("CONGVAN_EXCHANGE_ENDPOINT is not set: status messages wait in the outbox")
    try:
        while not stop.is_set():
            pause = settings.worker_poll_s
            try:
                outcome = deliver_due(factory, config)
                if outcome.sent or outcome.failed or outcome.retried:
                    logger.info("outbox: %d sent, %d to retry, %d refused by the hub", outcome.sent,
                                outcome.retried, outcome.failed)
                while verify_pending(factory, verification):
                    pass
            except Exception:  # noqa: BLE001 - the loop outlives any one pass
                logger.exception("the outbox pass failed; retrying in %.0f s", ERROR_PAUSE_S)
                pause = ERROR_PAUSE_S
            stop.wait(pause)
    finally:
        engine.dispose()


def start_in_thread(settings: Settings) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(settings, stop), name="congvan-worker", daemon=True)
    thread.start()
    return thread, stop
