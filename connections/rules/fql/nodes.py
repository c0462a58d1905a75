"""FQL abstract syntax tree. ``str(node)`` prints valid FQL that parses back to the same tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .lexer import is_ident_char

Scalar = str | int | float | bool | None

KEYWORDS = frozenset({"and", "or", "in", "true", "false", "null", "all"})
COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=", "in")

# Binding strength, loosest first.
PREC_OR = 1
PREC_AND = 2
PREC_COMPARE = 3
PREC_NOT = 4
PREC_ATOM = 5

_STRING_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(value: str) -> str:
    return "'" + "".join(_STRING_ESCAPES.get(c, c) for c in value) + "'"


def format_scalar(value: Scalar) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _escape_segment(segment: str, first: bool) -> str:
    out = []
    for i, c in enumerate(segment):
        needs_escape = not is_ident_char(c) or (first and i == 0 and (c.isdigit() or c == "-"))
        out.append("\\" + c if needs_escape else c)
    text = "".join(out)
    if first and segment in KEYWORDS:
        text = "\\" + text
    return text


class Node:
    prec: ClassVar[int] = PREC_ATOM

    def wrap(self, min_prec: int) -> str:
        text = str(self)
        return text if self.prec >= min_prec else f"({text})"


@dataclass(frozen=True, slots=True)
class All(Node):
    def __str__(self) -> str:
        return "all"


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Scalar

    def __str__(self) -> str:
        return format_scalar(self.value)


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Literal | ListLiteral, ...]

    def __str__(self) -> str:
        return "[" + ", ".join(str(item) for item in self.items) + "]"


@dataclass(frozen=True, slots=True)
class Field(Node):
    path: tuple[str, ...]

    def __str__(self) -> str:
        if len(self.path) == 1:
            return _escape_segment(self.path[0], first=True)
        return ".".join(_escape_segment(seg, first=i == 0) for i, seg in enumerate(self.path))


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    def __str__(self) -> str:
        return f"{self.name}(" + ", ".join(str(arg) for arg in self.args) + ")"


@dataclass(frozen=True, slots=True)
class Not(Node):
    prec: ClassVar[int] = PREC_NOT
    operand: Node

    def __str__(self) -> str:
        return "!" + self.operand.wrap(PREC_NOT)


@dataclass(frozen=True, slots=True)
class Compare(Node):
    prec: ClassVar[int] = PREC_COMPARE
    op: str
    left: Node
    right: Node

    def __str__(self) -> str:
        return f"{self.left.wrap(PREC_NOT)} {self.op} {self.right.wrap(PREC_NOT)}"


@dataclass(frozen=True, slots=True)
class And(Node):
    prec: ClassVar[int] = PREC_AND
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return " and ".join(op.wrap(PREC_COMPARE) for op in self.operands)


@dataclass(frozen=True, slots=True)
class Or(Node):
    prec: ClassVar[int] = PREC_OR
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return " or ".join(op.wrap(PREC_AND) for op in self.operands)
