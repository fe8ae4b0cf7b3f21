"""Follow-up: my notifications; webhooks (admins); the worker's queues (admins)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import AdminUser, CurrentUser, Now, SessionDep, SettingsDep
from app.api.params import id_path
from app.api.problems import error_responses
from app.models import Notification, Webhook
from app.schemas.common import DEFAULT_PAGE, MAX_INT32, MAX_PAGE, Page
from app.schemas.follow_up import (
    DeliveryOut,
    NotificationOut,
    QueueOut,
    ReadCount,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WorkerOut,
)
from app.services import notifications, queues, webhooks

router = APIRouter(tags=["follow-up"], responses=error_responses(401))
NotificationId = id_path("Id of one of your notifications")
WebhookId = id_path("Id of a webhook subscription")
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT32)]


def _notification(row: Notification) -> NotificationOut:
    return NotificationOut(id=row.id, kind=row.kind, document_id=row.document_id, assignment_id=row.assignment_id,
                           text=row.text, day=row.day, at=row.at, read=row.read_at is not None)


@router.get("/me/notifications", name="notifications", response_model=Page[NotificationOut])
def my_notifications(user: CurrentUser, session: SessionDep, unread: bool | None = None,
                     limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> Page[NotificationOut]:
    """What you were told, newest first: assigned, directed, returned, recalled, due soon, overdue,
    received electronically (clerks)."""
    rows, total = notifications.feed(session, user, unread=unread, limit=limit, offset=offset)
    return Page(items=[_notification(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/me/notifications/{notification_id}/read", name="notification-read", response_model=ReadCount,
             responses=error_responses(404))
def read_one(notification_id: NotificationId, user: CurrentUser, session: SessionDep, now: Now) -> ReadCount:
    changed = notifications.mark_one_read(session, user, notification_id=notification_id, now=now)
    session.commit()
    return ReadCount(marked_read=changed)


@router.post("/me/notifications/read-all", name="notifications-read-all", response_model=ReadCount)
def read_all(user: CurrentUser, session: SessionDep, now: Now) -> ReadCount:
    changed = notifications.mark_read(session, user, notification_id=None, now=now)
    session.commit()
    return ReadCount(marked_read=changed)


def _webhook(row: Webhook) -> WebhookOut:
    return WebhookOut(id=row.id, url=row.url, events=row.events, description=row.description,
                      created_at=row.created_at)


@router.post("/webhooks", name="webhook-create", status_code=201, response_model=WebhookCreated,
             responses=error_responses(403, 422))
def create_webhook(body: WebhookCreate, admin: AdminUser, session: SessionDep, settings: SettingsDep,
                   now: Now) -> WebhookCreated:
    """Subscribe a receiver to event kinds; the answer carries the signing secret, once."""
    row = webhooks.create(session=session, owner=admin, url=body.url, events=body.events,
                          description=body.description, allow_private=settings.webhook_allow_private, now=now)
    session.commit()
    return WebhookCreated(**_webhook(row).model_dump(), secret=row.secret)


@router.get("/webhooks", name="webhooks", response_model=list[WebhookOut], responses=error_responses(403))
def list_webhooks(admin: AdminUser, session: SessionDep) -> list[WebhookOut]:
    return [_webhook(w) for w in webhooks.active(session)]


@router.delete("/webhooks/{webhook_id}", name="webhook-delete", status_code=204, response_class=Response,
               responses=error_responses(403, 404))
def delete_webhook(webhook_id: WebhookId, admin: AdminUser, session: SessionDep) -> Response:
    webhooks.get(session, webhook_id).active = False
    session.commit()
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", name="webhook-deliveries", response_model=list[DeliveryOut],
            responses=error_responses(403, 404))
def webhook_deliveries(webhook_id: WebhookId, admin: AdminUser, session: SessionDep, limit: Limit = DEFAULT_PAGE,
                       offset: Offset = 0) -> list[DeliveryOut]:
    """The delivery log, newest first: each attempt's outcome, the last status and error."""
    rows = webhooks.deliveries(session, webhooks.get(session, webhook_id), limit=limit, offset=offset)
    return [DeliveryOut.model_validate(r) for r in rows]


@router.post("/webhooks/{webhook_id}/test", name="webhook-test", status_code=202, response_model=DeliveryOut,
             responses=error_responses(403, 404))
def test_webhook(webhook_id: WebhookId, admin: AdminUser, session: SessionDep, now: Now) -> DeliveryOut:
    """Queue a `webhook.test` event for this receiver alone; the worker sends it like any other."""
    row = webhooks.test_event(session=session, webhook=webhooks.get(session, webhook_id), now=now)
    session.commit()
    return DeliveryOut.model_validate(row)


@router.get("/admin/worker", name="worker", response_model=WorkerOut, responses=error_responses(403))
def worker_state(admin: AdminUser, session: SessionDep) -> WorkerOut:
    """The background worker's queues: what waits, since when, how much failed, the last error."""
    state = queues.worker_state(session)
    return WorkerOut(**{name: QueueOut(**asdict(value)) if isinstance(value, queues.Queue) else value
                        for name, value in state.items()})
