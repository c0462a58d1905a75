"""FQL checks shared by mapping triggers and destination filters: one error
wording that says what is wrong and where."""

from __future__ import annotations

from connections.rules import fql
from switchyard.errors import InvalidArgument

EXPRESSION_MAX = 4096


def clean_expression(value: object, *, field: str, allow_all: bool = False) -> str:
    """A stripped FQL expression that compiles (``all`` too when ``allow_all``)."""
    if not isinstance(value, str) or not value.strip():
        hint = ' or "all"' if allow_all else ""
        raise InvalidArgument(f"{field} must be an FQL expression{hint}", field=field)
    expression = value.strip()
    if allow_all and expression == "all":
        return expression
    if len(expression) > EXPRESSION_MAX:
        raise InvalidArgument(f"{field} must be at most {EXPRESSION_MAX} characters", field=field)
    try:
        fql.compile(expression)
    except fql.FQLSyntaxError as exc:
        raise InvalidArgument(f"{field}: {exc.describe(expression)}", field=field) from exc
    return expression
