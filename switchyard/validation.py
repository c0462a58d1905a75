"""Checks that services of every app share."""

from __future__ import annotations

import json
from typing import Any

from switchyard.errors import InvalidArgument


def clean_text(
    value: object, *, field: str, limit: int, required: bool = True, empty: str | None = None
) -> str:
    """Strip a text field and enforce its length; ``empty`` words the missing-value error."""
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidArgument(empty or f"{field} must not be empty", field=field)
    if len(text) > limit:
        raise InvalidArgument(f"{field} must be at most {limit} characters", field=field)
    return text


def clean_bool(value: object, *, field: str) -> bool:
    """A JSON boolean; ``1``, ``"true"`` and the like are refused, not coerced."""
    if not isinstance(value, bool):
        raise InvalidArgument(f"{field} must be true or false", field=field)
    return value


# PostgreSQL refuses U+0000 in text and jsonb, so it is refused at the door rather
# than failing as a 500 at the first INSERT; the depth limit keeps every recursive
# walk of stored JSON (audit, masked edits, schema checks) far from Python's stack limit.
MAX_JSON_DEPTH = 64
NUL = "\x00"


def check_json(value: object, *, field: str = "") -> None:
    """Refuse JSON deeper than ``MAX_JSON_DEPTH`` or holding NUL in any key or string.

    Iterative on purpose: the input it guards against would exhaust recursion.
    """
    where = f"{field}: " if field else ""
    name = field or None
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                raise InvalidArgument(f"{where}text must not contain NUL (\\u0000)", field=name)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise InvalidArgument(
                f"{where}JSON must not be nested more than {MAX_JSON_DEPTH} levels deep",
                field=name,
            )
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict):
            stack += [(key, depth) for key in item]
        stack += [(child, depth + 1) for child in children]


def load_json(text: str, *, field: str = "") -> Any:
    """Parse JSON typed into a form, held to the API parser's limits.

    Raises ``InvalidArgument`` whose message starts "not valid JSON (" for text that
    does not parse, or says why the nesting or a NUL refused it (nesting deep enough
    to exhaust the parser's recursion gets the depth message too).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidArgument(
            f"JSON must not be nested more than {MAX_JSON_DEPTH} levels deep", field=field or None
        ) from None
    except ValueError as exc:
        raise InvalidArgument(f"not valid JSON ({exc})", field=field or None) from None
    check_json(value)
    return value
