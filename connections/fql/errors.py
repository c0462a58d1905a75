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
