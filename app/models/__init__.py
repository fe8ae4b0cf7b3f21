"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from app.models.base import Base
from app.models.documents import Assignment, Attachment, DocumentEvent, IdempotencyKey, IncomingDocument
from app.models.organisation import Unit, User, UserRole
from app.models.registers import Register, RegisterClerk, RegisterCounter
from app.models.workflow import CalendarOverride, Delegation

__all__ = [
    "Assignment",
    "Attachment",
    "Base",
    "CalendarOverride",
    "Delegation",
    "DocumentEvent",
    "IdempotencyKey",
    "IncomingDocument",
    "Register",
    "RegisterClerk",
    "RegisterCounter",
    "Unit",
    "User",
    "UserRole",
]
