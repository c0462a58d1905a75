"""FQL, the Filter Query Language of destination filters and transformations.

>>> predicate = compile("type = 'track' and match(context.library.version, '1.*')")
>>> predicate.matches({"type": "track", "context": {"library": {"version": "1.0"}}})
True
"""

from __future__ import annotations

from typing import Any

from .errors import FQLError, FQLSyntaxError
from .evaluator import compile_node
from .nodes import Node
from .parser import MAX_BYTES, parse

__all__ = ["MAX_BYTES", "FQLError", "FQLSyntaxError", "Predicate", "compile", "parse"]


class Predicate:
    """A compiled FQL expression; compile once, evaluate against many events."""

    __slots__ = ("_fn", "ast", "source")

    def __init__(self, source: str, ast: Node) -> None:
        self.source = source
        self.ast = ast
        self._fn = compile_node(ast)

    def evaluate(self, event: dict[str, Any]) -> bool:
        """True or False; raises FQLError when evaluation fails (e.g. length of an object)."""
        try:
            return self._fn(event) is True
        except FQLError:
            raise
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise FQLError(f"evaluation failed: {exc}") from exc

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether the event passes; evaluation errors fail closed (False)."""
        try:
            return self._fn(event) is True
        except Exception:  # fail closed: never let a broken filter pass an event
            return False

    def __str__(self) -> str:
        return str(self.ast)

    def __repr__(self) -> str:
        return f"Predicate({self.source!r})"


def compile(expression: str) -> Predicate:
    """Parse and compile ``expression``; raises FQLSyntaxError with a 0-based position."""
    return Predicate(expression, parse(expression))
