"""A console form as an API body: the same schema validates it, its errors go next to their fields.

Fields carry the API's names (``symbol``, ``document_date``, ``assignments.0.unit_code``), so a form
is turned into the very body a client would send (dotted names nest; an empty field is absent)
and validated by the API's pydantic model. Each error is then shown under the field it names, in
the reader's language, with the API's code and message (app.i18n.validation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from app.errors import AppError, FieldError
from app.i18n import Message, msg
from app.i18n.validation import field_problem

IGNORED = frozenset({"csrf_token"})

# Dates are typed as Vietnamese write them, dd/mm/yyyy, whatever language the browser is in (a
# browser's own date field shows mm/dd/yyyy on an English Windows); the body gets ISO dates.
DATE_NAMES = frozenset({"received_from", "received_to", "from", "to", "starts_on", "ends_on", "valid_from",
                        "valid_until"})
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
DATE_ERRORS = frozenset({"date_parsing", "date_type", "date_from_datetime_parsing"})


def is_date_field(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last in DATE_NAMES or last.endswith("_date")


def iso_date(value: str) -> str:
    """``12/08/2013`` → ``2013-08-12``; anything else as it is (the schema then says what is wrong)."""
    found = _DAY_MONTH_YEAR.fullmatch(value)
    if not found:
        return value
    try:
        return datetime.strptime(value, "%d/%m/%Y").date().isoformat()
    except ValueError:
        return value


def body_of(form: FormData | Mapping[str, Any], *, checkboxes: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON body a form stands for: ``a.0.b`` nests into ``{"a": [{"b": …}]}``; empty fields are left out."""
    body: dict[str, Any] = {}
    for name, value in form.items():
        if name in IGNORED or not isinstance(value, str):
            continue
        value = value.strip()
        if value == "":
            continue
        _put(body, name.split("."), iso_date(value) if is_date_field(name) else value)
    for name in checkboxes:
        body[name] = name in form and form.get(name) not in ("", "0", "false", "off")
    return _lists(body)


def registration_form(form: FormData, fields: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A registration form (paper or inbox) as typed, to show again, and as the API's body: its
    ``fields``, and ``allow_duplicate`` when its box is ticked."""
    names = tuple(fields)
    values: dict[str, Any] = {name: str(form.get(name) or "") for name in names}
    values["allow_duplicate"] = "allow_duplicate" in form
    body = body_of({k: v for k, v in form.items() if k in names})
    if form.get("allow_duplicate"):
        body["allow_duplicate"] = True
    return values, body


def _put(node: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node.setdefault(path[-1], value)


def _lists(node: Any) -> Any:
    """Dicts keyed 0, 1, … become lists, in the order of their numbers (gaps closed up)."""
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


class FormErrors:
    """The errors of one form: a message per field (dotted name), and those that name no field."""

    def __init__(self, errors: Iterable[FieldError] = (), general: Iterable[Message] = ()) -> None:
        self.fields: dict[str, FieldError] = {}
        self.general: list[Message] = list(general)
        for error in errors:
            self.fields.setdefault(error.field, error)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def get(self, name: str) -> FieldError | None:
        return self.fields.get(name)

    def unplaced(self, shown_fields: Iterable[str]) -> list[FieldError]:
        """Errors of fields the form has no place for (they are listed at its top)."""
        shown = set(shown_fields)
        return [e for name, e in self.fields.items() if name not in shown]


@cache
def _adapter(model: Any) -> TypeAdapter:
    """Building an adapter compiles its validator (milliseconds for the action union): once per model."""
    return TypeAdapter(model)


def validate(model: Any, body: dict[str, Any]) -> tuple[Any | None, FormErrors]:
    """``body`` as ``model`` (a pydantic model or an annotated union), or None and the errors."""
    try:
        return _adapter(model).validate_python(body), FormErrors()
    except ValidationError as exc:
        return None, FormErrors(_as_typed(FieldError(*field_problem(error, body))) for error in exc.errors())


def _as_typed(error: FieldError) -> FieldError:
    if error.code in DATE_ERRORS:
        return FieldError(error.field, error.code, msg("must be a date written dd/mm/yyyy"))
    return error


def from_error(error: AppError) -> FormErrors:
    """A service's refusal, shown on the form: its field errors where it has them, else its detail."""
    if error.errors:
        return FormErrors(error.errors, general=[] if all(e.field for e in error.errors) else [error.detail])
    return FormErrors(general=[error.detail])
