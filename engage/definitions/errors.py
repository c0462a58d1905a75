"""Errors of a definition: where (a JSON Pointer into the definition) and what."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class DefinitionError(NamedTuple):
    """One problem of a definition. ``path`` is a JSON Pointer (RFC 6901) into the
    definition ("" is the whole document, "/root/args/0/window/value" a key deep
    in it; a missing key's pointer names the key). ``code`` is stable for
    programs, ``message`` is for people."""

    path: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


def pointer(parts: Iterable[str | int]) -> str:
    """The JSON Pointer of a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def unique(errors: Iterable[DefinitionError]) -> list[DefinitionError]:
    """The errors in order, each once (the shape check and the rules may meet)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for error in errors:
        if (error.path, error.message) not in seen:
            seen.add((error.path, error.message))
            kept.append(error)
    return kept
