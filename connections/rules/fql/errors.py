"""Exceptions raised by the FQL compiler and evaluator."""

from __future__ import annotations


class FQLError(Exception):
    """An FQL expression could not be compiled or evaluated."""


class FQLSyntaxError(FQLError):
    """An FQL expression is invalid; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at {position}")
        self.message = message
        self.position = position

    def describe(self, text: str, *, before: int = 60, after: int = 20) -> str:
        """``invalid FQL at position 12: <message>`` and the line of ``text`` around
        the position with a caret under it, for people fixing the expression."""
        position = max(0, min(self.position, len(text)))
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        lo = max(start, position - before)
        hi = min(end, position + after)
        prefix = "..." if lo > start else ""
        suffix = "..." if hi < end else ""
        line = text[lo:hi].replace("\t", " ")
        column = len(prefix) + position - lo
        return (
            f"invalid FQL at position {self.position}: {self.message}\n"
            f"  {prefix}{line}{suffix}\n  {' ' * column}^"
        )
