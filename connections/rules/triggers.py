"""The mapping trigger builder: rows of conditions <-> an FQL expression.

Pure and database-free. A row is a field ("Event type", "Event name" or "Event
property" with a path), an operator from Segment's condition builder and a value;
rows are combined with ALL (``and``) or ANY (``or``).

>>> to_fql([Condition("type", "is", "track"), Condition("event", "starts_with", "Order")])
'type = "track" and match(event, "Order*")'

``from_fql`` reads an expression back into rows when (and only when) the builder
would write exactly that expression, so the editor can show saved triggers as rows
and anything else in the raw FQL box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connections.rules import fql
from connections.rules.fql import nodes

FIELDS = {"type": "Event type", "event": "Event name", "property": "Event property"}
OPERATORS = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "exists": "exists",
    "not_exists": "does not exist",
    "lt": "less than",
    "lte": "less than or equal",
    "gt": "greater than",
    "gte": "greater than or equal",
}
MATCHES = {"all": "ALL", "any": "ANY"}
NO_VALUE = frozenset({"exists", "not_exists"})
_ORDER_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_GLOB_SPECIAL = "*?[]\\"
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class TriggerError(ValueError):
    """A row the builder cannot turn into FQL; ``row`` is its 0-based index."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


@dataclass(frozen=True)
class Condition:
    field: str  # a key of FIELDS
    operator: str  # a key of OPERATORS
    value: str = ""
    path: str = ""  # "Event property" only: properties.plan, context.page.url, userId

    @property
    def blank(self) -> bool:
        return not self.value.strip() and not self.path.strip() and self.operator not in NO_VALUE


def quote(value: str) -> str:
    """An FQL string literal (double quotes, backslash escapes)."""
    return '"' + "".join(_STRING_ESCAPES.get(c, c) for c in value) + '"'


def glob_escape(value: str) -> str:
    """``value`` as a glob matching itself literally."""
    return "".join("\\" + c if c in _GLOB_SPECIAL else c for c in value)


def _field_path(condition: Condition, row: int) -> str:
    if condition.field == "type":
        return "type"
    if condition.field == "event":
        return "event"
    if condition.field != "property":
        raise TriggerError(f"condition {row + 1}: unknown field {condition.field!r}", row)
    text = condition.path.strip()
    if text.startswith("$."):
        text = text[2:]
    segments = text.split(".")
    if not text or any(not s for s in segments):
        raise TriggerError(
            f"condition {row + 1}: give the property path, such as properties.plan", row
        )
    return str(nodes.Field(tuple(segments)))


def _literal(condition: Condition) -> str:
    """Event type and name are strings. A property value is typed: a number,
    true, false or null as such, anything else (or a value in double quotes) a string."""
    value = condition.value
    if condition.field != "property":
        return quote(value)
    text = value.strip()
    if text in ("true", "false", "null") or _NUMBER.fullmatch(text):
        return text
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return quote(text[1:-1])
    return quote(value)


def _number(condition: Condition, row: int) -> str:
    text = condition.value.strip()
    if not _NUMBER.fullmatch(text):
        label = OPERATORS[condition.operator]
        raise TriggerError(
            f"condition {row + 1}: {label!r} needs a number, got {condition.value!r}", row
        )
    return text


def condition_to_fql(condition: Condition, row: int = 0) -> str:
    if condition.operator not in OPERATORS:
        raise TriggerError(f"condition {row + 1}: unknown operator {condition.operator!r}", row)
    path = _field_path(condition, row)
    op = condition.operator
    if op == "exists":
        return f"{path} != null"
    if op == "not_exists":
        return f"{path} = null"
    if op in _ORDER_OPS:
        return f"{path} {_ORDER_OPS[op]} {_number(condition, row)}"
    if op == "is":
        return f"{path} = {_literal(condition)}"
    if op == "is_not":
        return f"{path} != {_literal(condition)}"
    if not condition.value:
        raise TriggerError(f"condition {row + 1}: {OPERATORS[op]!r} needs a value to look for", row)
    if op == "contains":
        return f"contains({path}, {quote(condition.value)})"
    if op == "not_contains":
        return f"!contains({path}, {quote(condition.value)})"
    if op == "starts_with":
        return f"match({path}, {quote(glob_escape(condition.value) + '*')})"
    # ends_with
    return f"match({path}, {quote('*' + glob_escape(condition.value))})"


def to_fql(conditions: list[Condition], match: str = "all") -> str:
    """The FQL for ``conditions`` (blank rows skipped) joined by ``and`` (ALL) or
    ``or`` (ANY). Raises TriggerError when there is no condition or one is incomplete."""
    if match not in MATCHES:
        raise TriggerError(f"combine conditions with ALL or ANY, not {match!r}")
    parts = [condition_to_fql(c, i) for i, c in enumerate(conditions) if not c.blank]
    if not parts:
        raise TriggerError("add at least one condition, or write the expression in FQL")
    return (" and " if match == "all" else " or ").join(parts)


# --- reading an expression back into rows ------------------------------------------


def _row_field(node: nodes.Node) -> tuple[str, str] | None:
    if not isinstance(node, nodes.Field):
        return None
    if node.path == ("type",):
        return "type", ""
    if node.path == ("event",):
        return "event", ""
    return "property", ".".join(node.path)


def _literal_text(field: str, value: Any) -> str | None:
    if field != "property":
        return value if isinstance(value, str) else None
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        if value.strip() in ("true", "false", "null") or _NUMBER.fullmatch(value.strip()):
            return f'"{value}"'
        return value
    return str(nodes.Literal(value))


def _unglob(pattern: str, op: str) -> str | None:
    """The text of a ``X*`` (starts_with) or ``*X`` (ends_with) glob, or None."""
    body = pattern[:-1] if op == "starts_with" else pattern[1:]
    if op == "starts_with" and not pattern.endswith("*"):
        return None
    if op == "ends_with" and not pattern.startswith("*"):
        return None
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
            continue
        if c in _GLOB_SPECIAL:
            return None
        out.append(c)
        i += 1
    return "".join(out)


def _node_to_condition(node: nodes.Node) -> Condition | None:
    negated = isinstance(node, nodes.Not)
    inner = node.operand if isinstance(node, nodes.Not) else node
    if isinstance(inner, nodes.Call) and len(inner.args) == 2:
        target = _row_field(inner.args[0])
        arg = inner.args[1]
        if target is None or not isinstance(arg, nodes.Literal) or not isinstance(arg.value, str):
            return None
        field, path = target
        if inner.name == "contains":
            op = "not_contains" if negated else "contains"
            return Condition(field, op, arg.value, path)
        if inner.name == "match" and not negated:
            for op in ("starts_with", "ends_with"):
                text = _unglob(arg.value, op)
                if text:
                    return Condition(field, op, text, path)
        return None
    if negated or not isinstance(inner, nodes.Compare):
        return None
    target = _row_field(inner.left)
    if target is None or not isinstance(inner.right, nodes.Literal):
        return None
    field, path = target
    value = inner.right.value
    if value is None and inner.op in ("=", "!="):
        return Condition(field, "not_exists" if inner.op == "=" else "exists", "", path)
    if inner.op in ("=", "!="):
        text = _literal_text(field, value)
        if text is None:
            return None
        return Condition(field, "is" if inner.op == "=" else "is_not", text, path)
    ops = {v: k for k, v in _ORDER_OPS.items()}
    if inner.op in ops and isinstance(value, int | float) and not isinstance(value, bool):
        return Condition(field, ops[inner.op], str(nodes.Literal(value)), path)
    return None


def from_fql(expression: str) -> tuple[str, list[Condition]] | None:
    """``(match, rows)`` when the builder can show ``expression``, else None."""
    try:
        tree = fql.parse(expression)
    except fql.FQLSyntaxError:
        return None
    if isinstance(tree, nodes.And | nodes.Or):
        match, operands = ("all" if isinstance(tree, nodes.And) else "any"), tree.operands
    else:
        match, operands = "all", (tree,)
    rows = [_node_to_condition(node) for node in operands]
    if any(row is None for row in rows):
        return None
    conditions = [row for row in rows if row is not None]
    try:
        rebuilt = fql.parse(to_fql(conditions, match))
    except (TriggerError, fql.FQLSyntaxError):
        return None
    return (match, conditions) if rebuilt == tree else None
