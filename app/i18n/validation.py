"""Pydantic's validation errors as coded, translatable messages.

Pydantic reports each error with a stable ``type`` (``missing``, ``string_too_long``, …) and the
values it used (``ctx``). That type is the error's ``code`` in our problems, and the message is
ours, from the catalog, so that a clerk reads Vietnamese. A type not listed here keeps pydantic's
English text behind a generic Vietnamese sentence; the list covers what our schemas can raise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.i18n import Invalid, Text, msg

MESSAGES: Mapping[str, Text] = {
    "missing": msg("this field is required"),
    "extra_forbidden": msg("this field is not part of the request"),
    "string_type": msg("must be text"),
    "string_too_short": msg("must be at least {min_length} characters"),
    "string_too_long": msg("must be at most {max_length} characters"),
    "string_pattern_mismatch": msg("contains characters that are not allowed here"),
    "string_unicode": msg("must be valid UTF-8 text"),
    "int_type": msg("must be a whole number"),
    "int_parsing": msg("must be a whole number"),
    "int_from_float": msg("must be a whole number"),
    "int_parsing_size": msg("is too large a number"),
    "float_type": msg("must be a number"),
    "float_parsing": msg("must be a number"),
    "bool_type": msg("must be true or false"),
    "bool_parsing": msg("must be true or false"),
    "greater_than": msg("must be greater than {gt}"),
    "greater_than_equal": msg("must be at least {ge}"),
    "less_than": msg("must be less than {lt}"),
    "less_than_equal": msg("must be at most {le}"),
    "too_short": msg("must have at least {min_length} items"),
    "too_long": msg("must have at most {max_length} items"),
    "list_type": msg("must be a list"),
    "dict_type": msg("must be a JSON object"),
    "model_type": msg("must be a JSON object"),
    "model_attributes_type": msg("must be a JSON object"),
    "json_invalid": msg("is not valid JSON"),
    "json_type": msg("is not valid JSON"),
    "enum": msg("must be one of {expected}"),
    "literal_error": msg("must be one of {expected}"),
    "date_type": msg("must be a date (YYYY-MM-DD)"),
    "date_parsing": msg("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": msg("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": msg("must be a date without a time of day"),
    "datetime_type": msg("must be a date and time (ISO 8601, with its offset)"),
    "datetime_parsing": msg("must be a date and time (ISO 8601, with its offset)"),
    "datetime_from_date_parsing": msg("must be a date and time (ISO 8601, with its offset)"),
    "datetime_object_invalid": msg("must be a date and time (ISO 8601, with its offset)"),
    "timezone_aware": msg("must give its time zone offset, e.g. +07:00"),
    "union_tag_invalid": msg("'{tag}' is not one of {expected_tags}"),
    "union_tag_not_found": msg("is required: it says which kind of request this is"),
    "value_error": msg("is not valid"),
    "url_parsing": msg("must be a URL"),
    "url_type": msg("must be a URL"),
    "url_scheme": msg("must be an http or https URL"),
    "bytes_type": msg("must be a file"),
}
UNLISTED = msg("is not valid ({detail})")


def field_problem(error: Mapping[str, Any], body: Any) -> tuple[str, str, Text]:
    """``(field, code, message)`` of one pydantic error of a request."""
    ctx = dict(error.get("ctx") or {})
    cause = ctx.get("error")
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", "value_error"))
    if isinstance(cause, Invalid):
        path = field_path(loc, body)
        if cause.field:
            path = f"{path}.{cause.field}" if path else cause.field
        return path or "body", cause.code, cause.text
    path = field_path(loc, body, missing=kind == "missing")
    if kind in ("union_tag_invalid", "union_tag_not_found") and ctx.get("discriminator"):
        discriminator = str(ctx["discriminator"]).strip("'\"")
        path = f"{path}.{discriminator}" if path else discriminator
    template = MESSAGES.get(kind)
    if template is None:
        return path or "body", kind, UNLISTED.with_params(detail=str(error.get("msg", "")))
    return path or "body", kind, template.with_params(**{k: _shown(v) for k, v in ctx.items()})


def _shown(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) else str(value)


_SOURCES = {"body", "query", "path", "header", "cookie", "form"}


def field_path(loc: Sequence[Any], body: Any, *, missing: bool = False) -> str:
    """The dotted path a client can follow into what it sent: ``assignments.0.due_date``.

    Pydantic's location also names the union member it tried (``direct`` for a direct action,
    ``function-after[...]``, ``int``); those are not in the request, so each part is kept only if
    the body has it at that place. For a ``missing`` error the last part is kept though absent: it
    is the missing field.
    """
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source, parts = parts[0], parts[1:]
        if source != "body":
            return ".".join(str(p) for p in parts)
    kept: list[str] = []
    node: Any = body
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, Mapping) and isinstance(part, str) and part in node:
            kept.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(str(part))
            node = node[part]
        elif last and missing and isinstance(part, str) and not _is_member_name(part):
            kept.append(part)  # the missing field itself
        # anything else is the name of a union member pydantic tried, not a place in the body
    return ".".join(kept)


def _is_member_name(part: Any) -> bool:
    """Whether a location part names a union member or a validator, not a field."""
    return isinstance(part, str) and ("[" in part or part in {"int", "str", "float", "bool", "date", "datetime"})
