"""Notifications, webhooks and the worker's state, as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from app.schemas.common import Schema, text

NotificationKind = Literal["assigned", "directed", "due_soon", "overdue", "returned", "recalled",
                           "received_electronic"]


class NotificationOut(Schema):
    id: int
    kind: NotificationKind
    document_id: int | None
    assignment_id: int | None
    text: str
    day: date = Field(description="The local day it was made for (one per kind, document and assignment a day)")
    at: datetime
    read: bool


class ReadCount(Schema):
    marked_read: int


class WebhookCreate(Schema):
    url: text(2000) = Field(description="http(s) URL of the receiver; private and loopback hosts are refused "
                                        "unless CONGVAN_WEBHOOK_ALLOW_PRIVATE=true")
    events: list[str] = Field(min_length=1, max_length=20, description='Event kinds, or ["*"] for all')
    description: text(500, required=False) | None = None


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…): shown once, keep it with the receiver")


class DeliveryOut(Schema):
    id: int
    message_id: str = Field(description="The webhook-id header: the same on every retry")
    event_type: str
    payload: dict[str, Any]
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None


class QueueOut(Schema):
    pending: int
    failed: int
    oldest_pending_at: datetime | None
    last_error: str | None


class WorkerOut(Schema):
    exchange_outbox: QueueOut
    webhooks: QueueOut
    digests: QueueOut
    signatures: QueueOut
    last_reminder_scan: date | None = Field(description="The last working day the reminder scan ran")
