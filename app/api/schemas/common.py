"""Building blocks shared by every schema: normalised text types and the list envelope."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.text import nfc

T = TypeVar("T")

MAX_PAGE = 500
DEFAULT_PAGE = 50


def _nfc_strip(value: object) -> object:
    return nfc(value).strip() if isinstance(value, str) else value


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


# Every text that enters the system is NFC with no surrounding whitespace; a blank string
# is therefore empty and fails with "must not be empty".
CleanText = Annotated[str, BeforeValidator(_nfc_strip)]
RequiredText = Annotated[str, BeforeValidator(_nfc_strip), AfterValidator(_not_blank)]


def text(max_length: int, *, required: bool = True) -> Any:
    """A normalised text type of at most ``max_length`` characters."""
    if required:
        return Annotated[str, StringConstraints(max_length=max_length), BeforeValidator(_nfc_strip), AfterValidator(_not_blank)]
    return Annotated[str, StringConstraints(max_length=max_length), BeforeValidator(_nfc_strip)]


Code = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[\w.\-]+$"),
    BeforeValidator(_nfc_strip),
]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class Page(BaseModel, Generic[T]):
    """The one list envelope: ``{items, total, limit, offset}``."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is shaped."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, str]] | None = Field(default=None, description="For validation: [{field, message}]")
    duplicate_of: int | None = Field(default=None, description="For a duplicate document: the existing id")
