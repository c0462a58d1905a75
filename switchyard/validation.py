"""Checks that services of every app share."""

from __future__ import annotations

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
