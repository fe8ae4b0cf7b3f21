"""Domain errors. Services raise these; the API turns each into one problem+json response.

Each carries the HTTP status it maps to so that there is exactly one place
(``app.api.problems``) that renders errors, and services stay free of HTTP objects.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

from app.i18n import Message, Text, msg


@dataclass(frozen=True)
class FieldError:
    """One wrong field of a request: ``field`` a dotted path into the body or a parameter's name."""

    field: str
    code: str
    message: Message
    line: int | None = None  # where in a file the error is (an edXML message that is not well-formed)
    column: int | None = None


class AppError(Exception):
    """A problem the API answers as problem+json: ``code`` for programs, ``detail`` for people.

    ``code`` is stable (``document.duplicate``, ``workflow.not_allowed``): clients branch on it,
    never on the text, which is translated (app.i18n) and may be reworded.
    """

    status: int = 400
    title: Text = msg("Bad request")
    slug: str = "bad-request"
    code: str = "request.invalid"

    def __init__(
        self, detail: Message, *, code: str | None = None, errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None, **extra: Any,
    ):
        super().__init__(str(detail))
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors
        self.headers = headers  # e.g. Retry-After
        self.extra = extra


class ValidationFailed(AppError):
    """One field is wrong in a way only the service can tell (an unknown unit, a date in the future)."""

    status = 422
    title = msg("Validation failed")
    slug = "validation-error"
    code = "validation.failed"

    def __init__(self, field: str, message: Message, *, code: str, **extra: Any):
        super().__init__(msg("{field}: {message}", field=field, message=message), code=code,
                         errors=[FieldError(field, code, message)], **extra)


class NotAuthenticated(AppError):
    status = 401
    title = msg("Not authenticated")
    slug = "not-authenticated"
    code = "auth.required"


class Forbidden(AppError):
    status = 403
    title = msg("Forbidden")
    slug = "forbidden"
    code = "forbidden"


class NotFound(AppError):
    status = 404
    title = msg("Not found")
    slug = "not-found"
    code = "not_found"


class Conflict(AppError):
    status = 409
    title = msg("Conflict")
    slug = "conflict"
    code = "conflict"


class DuplicateDocument(Conflict):
    title = msg("Possible duplicate document")
    slug = "duplicate-document"
    code = "document.duplicate"


class PreconditionFailed(AppError):
    status = 412
    title = msg("Precondition failed")
    slug = "precondition-failed"
    code = "document.version_changed"


class PayloadTooLarge(AppError):
    status = 413
    title = msg("Payload too large")
    slug = "payload-too-large"
    code = "request.too_large"


class UnsupportedMediaType(AppError):
    status = 415
    title = msg("Unsupported media type")
    slug = "unsupported-media-type"
    code = "request.media_type"


class TooManyRequests(AppError):
    """Throttled (the login): try again after ``retry_after`` seconds (the Retry-After header)."""

    status = 429
    title = msg("Too many requests")
    slug = "too-many-requests"
    code = "auth.throttled"

    def __init__(self, detail: Message, *, retry_after: int, code: str | None = None):
        super().__init__(detail, code=code, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    """Something the request needs (the database) cannot be reached now; retrying later may work."""

    status = 503
    title = msg("Service unavailable")
    slug = "service-unavailable"
    code = "database.unavailable"

    def __init__(self, detail: Message, *, retry_after: int = 5, **extra: Any):
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class InsufficientStorage(AppError):
    """The attachments' disk (or the database's) is full or read-only: nothing was stored."""

    status = 507
    title = msg("Insufficient storage")
    slug = "insufficient-storage"
    code = "storage.full"


# A disk that is full, over quota or mounted read-only: the operator's problem, not a bug of ours
# and not the client's. EDQUOT is missing on some platforms.
STORAGE_ERRNOS = frozenset(
    code for code in (errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", None)) if code is not None
)


def storage_failure(exc: OSError) -> InsufficientStorage | None:
    """The 507 an ``OSError`` from writing a file stands for, or None when it is another error."""
    if exc.errno not in STORAGE_ERRNOS:
        return None
    if exc.errno == errno.ENOSPC:
        return InsufficientStorage(msg("the file could not be stored: the disk is full; nothing was recorded"),
                                   code="storage.full")
    if exc.errno == errno.EROFS:
        return InsufficientStorage(msg("the file could not be stored: the file system is read-only; nothing was "
                                       "recorded"), code="storage.read_only")
    return InsufficientStorage(msg("the file could not be stored: the disk quota is exhausted; nothing was recorded"),
                               code="storage.quota")
