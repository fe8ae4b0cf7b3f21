"""Domain errors. Services raise these; the API turns each into one problem+json response.

Each carries the HTTP status it maps to so that there is exactly one place
(``app.api.problems``) that renders errors, and services stay free of HTTP objects.
"""

from __future__ import annotations

import errno
from typing import Any


class AppError(Exception):
    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self, detail: str, *, errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers  # e.g. Retry-After
        self.extra = extra


class ValidationFailed(AppError):
    status = 422
    title = "Validation failed"
    slug = "validation-error"

    def __init__(self, field: str, message: str, **extra: Any):
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message}], **extra)


class NotAuthenticated(AppError):
    status = 401
    title = "Not authenticated"
    slug = "not-authenticated"


class Forbidden(AppError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(AppError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(AppError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class DuplicateDocument(Conflict):
    title = "Possible duplicate document"
    slug = "duplicate-document"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition failed"
    slug = "precondition-failed"


class PayloadTooLarge(AppError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class UnsupportedMediaType(AppError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class TooManyRequests(AppError):
    """Throttled (the login): try again after ``retry_after`` seconds (the Retry-After header)."""

    status = 429
    title = "Too many requests"
    slug = "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    """Something the request needs (the database) cannot be reached now; retrying later may work."""

    status = 503
    title = "Service unavailable"
    slug = "service-unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5, **extra: Any):
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class InsufficientStorage(AppError):
    """The attachments' disk (or the database's) is full or read-only: nothing was stored."""

    status = 507
    title = "Insufficient storage"
    slug = "insufficient-storage"


# A disk that is full, over quota or mounted read-only: the operator's problem, not a bug of ours
# and not the client's. EDQUOT is missing on some platforms.
STORAGE_ERRNOS = frozenset(
    code for code in (errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", None)) if code is not None
)


def storage_failure(exc: OSError) -> InsufficientStorage | None:
    """The 507 an ``OSError`` from writing a file stands for, or None when it is another error."""
    if exc.errno not in STORAGE_ERRNOS:
        return None
    reason = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only"}.get(
        exc.errno, "the disk quota is exhausted"
    )
    return InsufficientStorage(f"the file could not be stored: {reason}; nothing was recorded")
