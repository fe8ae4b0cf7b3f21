"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from app.models.base import Base
from app.models.documents import Assignment, Attachment, DocumentEvent, IdempotencyKey, IncomingDocument
from app.models.exchange import ExchangeAttachment, ExchangeMessage, ExchangeOutbox
from app.models.follow_up import Digest, Notification, ReminderScan, Webhook, WebhookDelivery
from app.models.organisation import Unit, User, UserRole
from app.models.registers import Register, RegisterClerk, RegisterCounter
from app.models.security import RevokedToken, SecurityEvent
from app.models.signatures import SignatureCheck
from app.models.reports import Appendix, AppendixGroup, IndicatorRecord, ProjectRecord, Report, TableRow
from app.models.workflow import CalendarOverride, Delegation

__all__ = [
    "Appendix",
    "AppendixGroup",
    "Assignment",
    "Attachment",
    "Base",
    "CalendarOverride",
    "Delegation",
    "Digest",
    "DocumentEvent",
    "ExchangeAttachment",
    "ExchangeMessage",
    "ExchangeOutbox",
    "IdempotencyKey",
    "IncomingDocument",
    "IndicatorRecord",
    "Notification",
    "ProjectRecord",
    "Register",
    "RegisterClerk",
    "RegisterCounter",
    "ReminderScan",
    "Report",
    "RevokedToken",
    "SecurityEvent",
    "SignatureCheck",
    "TableRow",
    "Unit",
    "User",
    "UserRole",
    "Webhook",
    "WebhookDelivery",
]
