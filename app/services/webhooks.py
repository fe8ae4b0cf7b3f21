"""Webhooks: admins subscribe partner systems to events; deliveries follow Standard Webhooks.

An event is written as one delivery row per matching subscription in the transaction of the
change (a transactional outbox), and only for a subscription whose owner may read the document:
a payload never says more than its owner could see. The worker POSTs each pending delivery with
the ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers of the Standard
Webhooks spec (the ``standardwebhooks`` package signs), follows no redirect, waits at most a few
seconds, and retries with backoff for 24 hours. The ``webhook-id`` stays the same across
retries, so a receiver drops a duplicate of an at-least-once delivery.

A target on a private, loopback, link-local or otherwise reserved address is refused (when the
subscription is made and again before every delivery, after resolving the name) unless
``CONGVAN_WEBHOOK_ALLOW_PRIVATE=true``: a webhook must not become a way into the agency's network.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook as Signer

from app.errors import NotFound, ValidationFailed
from app.models import IncomingDocument, User, Webhook, WebhookDelivery
from app.models.base import utcnow
from app.services import leases
from app.services.documents import visible_ids
from app.workflow.vocabulary import DocumentState
from app.i18n import msg

EVENT_TYPES = ("document.registered", "document.directed", "assignment.assigned", "document.resolved",
               "document.returned", "document.recalled", "assignment.due_soon", "assignment.overdue",
               "exchange.received", "exchange.status_sent")
RETRY_FOR = timedelta(hours=24)
LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class DeliveryPolicy:
    allow_private: bool = False
    timeout_s: float = 5.0
    retry_base_s: float = 30.0
    batch: int = 20


class UnsafeTarget(ValueError):
    pass


def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse what is not http(s), and hosts that resolve to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("the URL must be http:// or https:// with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"the host {parts.hostname} does not resolve ({exc.strerror})") from None
    for *_, address in infos:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip.is_multicast:
            raise UnsafeTarget(f"{parts.hostname} resolves to {ip}, a private or reserved address "
                               "(CONGVAN_WEBHOOK_ALLOW_PRIVATE=true allows it)")


def create(*, session: Session, owner: User, url: str, events: list[str], description: str | None,
           allow_private: bool, now: datetime) -> Webhook:
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if unknown or not events:
        raise ValidationFailed("events", msg("unknown event kind(s): {kinds}; use {known} or *",
                                             kinds=", ".join(unknown) or "-", known=", ".join(EVENT_TYPES)),
                               code="webhook.unknown_event")
    try:
        check_target(url, allow_private=allow_private)
    except UnsafeTarget as exc:
        raise ValidationFailed("url", str(exc), code="webhook.unsafe_target") from None
    webhook = Webhook(owner_id=owner.id, url=url, events=sorted(set(events)), description=description,
                      secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(), active=True,
                      created_at=now)
    session.add(webhook)
    session.flush()
    return webhook


def get(session: Session, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or not webhook.active:
        raise NotFound(msg("webhook {id} does not exist", id=webhook_id), code="webhook.not_found")
    return webhook


def active(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)))


def _subscribers(session: Session, event_type: str) -> list[Webhook]:
    return [w for w in active(session) if "*" in w.events or event_type in w.events]


def _delivery(webhook: Webhook, event_type: str, body: dict, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(webhook_id=webhook.id, message_id=f"msg_{uuid.uuid4().hex}", event_type=event_type,
                           payload={"type": event_type, "timestamp": now.isoformat(), "data": body}, state="pending",
                           attempts=0, next_attempt_at=now, created_at=now)


def test_event(*, session: Session, webhook: Webhook, now: datetime) -> WebhookDelivery:
    """A ``webhook.test`` event for this subscription alone (the admin's test-send)."""
    row = _delivery(webhook, "webhook.test", {"webhook_id": webhook.id}, now)
    session.add(row)
    session.flush()
    return row


def emit_many(*, session: Session, event_type: str, now: datetime, events: list[tuple[int, dict]]) -> int:
    """Many events of one kind about documents (the day's reminders): ``events`` are
    (document id, data) pairs; each subscription's owner's visibility is asked once for all."""
    made = 0
    for webhook in _subscribers(session, event_type):
        seen = visible_ids(session=session, user=webhook.owner, ids=[document_id for document_id, _ in events])
        for document_id, data in events:
            if document_id in seen:
                session.add(_delivery(webhook, event_type, data, now))
                made += 1
    return made


def emit(*, session: Session, event_type: str, now: datetime, document: IncomingDocument | None = None,
         data: dict | None = None, about_document_id: int | None = None) -> int:
    """Write the event for every subscription whose owner may read the document it concerns
    (``document``, or ``about_document_id`` when the caller has only its id); returns how many."""
    made = 0
    concerned = document.id if document is not None else about_document_id
    for webhook in _subscribers(session, event_type):
        if concerned is not None and not visible_ids(session=session, user=webhook.owner, ids=[concerned]):
            continue
        body = {"document_id": document.id, "arrival_number": document.arrival_number, "symbol": document.symbol,
                "state": document.state} if document is not None else {}
        body.update(data or {})
        session.add(_delivery(webhook, event_type, body, now))
        made += 1
    return made


def after_action(*, session: Session, change, from_state: str, now: datetime) -> None:
    """The events of a slip action (``change`` is app.services.notifications.SlipChange)."""
    document = change.document
    if change.action == "direct":
        emit(session=session, event_type="document.directed", now=now, document=document,
             data={"unit_codes": [a.unit.code for a in change.new_assignments if a.unit]})
    elif change.action == "assign" and change.assignment is not None:
        emit(session=session, event_type="assignment.assigned", now=now, document=document,
             data={"assignment_id": change.assignment.id, "unit_code": change.assignment.unit.code})
    elif change.action in ("return", "recall"):
        kind = {"return": "document.returned", "recall": "document.recalled"}[change.action]
        emit(session=session, event_type=kind, now=now, document=document)
    if document.state == DocumentState.resolved and from_state != DocumentState.resolved:
        emit(session=session, event_type="document.resolved", now=now, document=document)


# --- delivery ---------------------------------------------------------------------------------


def _claim(session: Session, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    return leases.claim(session, WebhookDelivery, now=now, lease=LEASE, limit=limit,
                        eligible=WebhookDelivery.next_attempt_at <= now)


def _post(client: httpx.Client, webhook: Webhook, delivery: WebhookDelivery, policy: DeliveryPolicy,
          now: datetime) -> tuple[int | None, str | None]:
    try:
        check_target(webhook.url, allow_private=policy.allow_private)
    except UnsafeTarget as exc:
        return None, str(exc)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
    headers = {"webhook-id": delivery.message_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Signer(webhook.secret).sign(delivery.message_id, now, body),
               "content-type": "application/json"}
    try:
        response = client.post(webhook.url, content=body.encode("utf-8"), headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return response.status_code, None if 200 <= response.status_code < 300 else response.text[:500]


def deliver_due(factory: sessionmaker[Session], policy: DeliveryPolicy, *, now: datetime | None = None) -> int:
    """One pass: claim due deliveries, POST each, record the outcome. Returns how many delivered."""
    now = now or utcnow()
    delivered = 0
    with httpx.Client(timeout=policy.timeout_s, follow_redirects=False) as client:
        while True:
            with factory() as session:
                claimed = _claim(session, now, policy.batch)
            if not claimed:
                return delivered
            failures = 0
            for delivery_id, lease in claimed:
                with factory() as session:
                    delivery = session.get(WebhookDelivery, delivery_id)
                    webhook = session.get(Webhook, delivery.webhook_id)
                    status, error = _post(client, webhook, delivery, policy, now)
                    if delivery.claimed_until != lease:
                        continue  # the lease ran out: another worker owns it now
                    delivery.attempts += 1
                    delivery.claimed_until = None
                    delivery.last_status, delivery.last_error = status, error
                    if status is not None and 200 <= status < 300:
                        delivery.state, delivery.delivered_at = "delivered", now
                        delivered += 1
                    else:
                        failures += 1
                        delay = min(timedelta(seconds=policy.retry_base_s * 2 ** (delivery.attempts - 1)), MAX_BACKOFF)
                        if now + delay > delivery.created_at + RETRY_FOR:
                            delivery.state = "failed"
                        else:
                            delivery.next_attempt_at = now + delay
                    session.commit()
            if failures == len(claimed):
                return delivered  # every receiver refused this round: the next pass retries later


def deliveries(session: Session, webhook: Webhook, *, limit: int, offset: int) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                                .order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)))
