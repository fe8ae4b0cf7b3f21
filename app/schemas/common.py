"""Building blocks shared by every schema: normalised text types and the list envelope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.text import nfc
from app.workflow.symbols import InvalidSymbol, parse_symbol
from app.i18n import Invalid, msg

T = TypeVar("T")

MAX_PAGE = 500
DEFAULT_PAGE = 50

# Ids are 32-bit integers in the database. A larger number names nothing, and one past 64
# bits cannot even be sent to SQLite, so such input is refused as invalid (422).
MAX_INT32 = 2**31 - 1

# Dates and timestamps a client sends must lie in these years: anything else is a typing
# mistake, and near the ends of Python's range (years 1 and 9999) moving a timestamp to
# another time zone, or to the end of its day, overflows.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
InputDate = Annotated[date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]
InputDatetime = Annotated[
    AwareDatetime,
    Field(ge=datetime(1900, 1, 1, tzinfo=UTC), lt=datetime(3000, 1, 1, tzinfo=UTC)),
]


def _nfc_strip(value: object) -> object:
    return nfc(value).strip() if isinstance(value, str) else value


def _not_blank(value: str) -> str:
    if not value:
        raise Invalid(msg("must not be empty"), code="text.empty")
    return value


# Every text that enters the system is NFC with no surrounding whitespace; a blank string
# is therefore empty and fails with "must not be empty".
CleanText = Annotated[str, BeforeValidator(_nfc_strip)]
RequiredText = Annotated[str, BeforeValidator(_nfc_strip), AfterValidator(_not_blank)]
# An e-mail address, as loosely as mail servers take them, but never with spaces, angle brackets or
# control characters (dropped like every text's before the pattern is checked).
Email = Annotated[str, BeforeValidator(_nfc_strip),
                  StringConstraints(max_length=255, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]


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
    total: int = Field(description="How many match. Exact unless `total_is_estimate` is true")
    limit: int
    offset: int
    total_is_estimate: bool = Field(
        default=False,
        description="True when more match than are worth counting one by one (the document list counts "
        "exactly up to `CONGVAN_EXACT_TOTAL_UP_TO`, 10 000 by default, or to the end of the page asked for "
        "if that is further): `total` is then that bound + 1, meaning \"more than the bound\"; page on while "
        "pages are full. Only the document list estimates; every other list's total is exact.",
    )


class ProblemFieldError(BaseModel):
    """One wrong field of a request."""

    field: str = Field(description="A dotted path into the body (`assignments.0.due_date`) or a parameter's name")
    code: str = Field(description="Stable, for programs (`missing`, `unit.unknown`); see the README's error codes")
    message: str = Field(description="For people, in the language asked for (Vietnamese by default)")
    line: int | None = Field(default=None, description="For a file that cannot be read: the line of the error")
    column: int | None = Field(default=None, description="With `line`: the column")


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is shaped."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable, for programs to branch on (`document.duplicate`); the texts are "
                                  "translated and may be reworded")
    detail: str | None = None
    errors: list[ProblemFieldError] | None = Field(default=None, description="For validation: each wrong field")
    duplicate_of: int | None = Field(default=None, description="For a duplicate document: the existing id")


def readable_symbol(value: str) -> str:
    """What a symbol field validator returns: the symbol (số, ký hiệu) as parsed; junk is an error."""
    try:
        return parse_symbol(value).symbol
    except InvalidSymbol:
        raise  # an app.i18n.Invalid: pydantic reports it with its code and translated message
