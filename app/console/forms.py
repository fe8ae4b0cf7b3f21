"""A console form as an API body: the same schema validates it, its errors go next to their fields.

Fields carry the API's names (``symbol``, ``document_date``, ``assignments.0.unit_code``), so a form
is turned into the very body a client would send (dotted names nest; an empty field is absent)
and validated by the API's pydantic model. Each error is then shown under the field it names, in
the reader's language, with the API's code and message (app.i18n.validation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from app.errors import AppError, FieldError
from app.i18n import Message
from app.i18n.validation import field_problem

IGNORED = frozenset({"csrf_token"})


def body_of(form: FormData | Mapping[str, Any], *, checkboxes: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON body a form stands for: ``a.0.b`` nests into ``{"a": [{"b": …}]}``; empty fields are left out."""
    body: dict[str, Any] = {}
    for name, value in form.items():
        if name in IGNORED or not isinstance(value, str):
            continue
        value = value.strip()
        if value == "":
            continue
        _put(body, name.split("."), value)
    for name in checkboxes:
        body[name] = name in form and form.get(name) not in ("", "0", "false", "off")
    return _lists(body)


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


def validate(model: Any, body: dict[str, Any]) -> tuple[Any | None, FormErrors]:
    """``body`` as ``model`` (a pydantic model or an annotated union), or None and the errors."""
    try:
        return TypeAdapter(model).validate_python(body), FormErrors()
    except ValidationError as exc:
        return None, FormErrors(FieldError(*field_problem(error, body)) for error in exc.errors())


def from_error(error: AppError) -> FormErrors:
    """A service's refusal, shown on the form: its field errors where it has them, else its detail."""
    if error.errors:
        return FormErrors(error.errors, general=[] if all(e.field for e in error.errors) else [error.detail])
    return FormErrors(general=[error.detail])
