"""Changes to members of a JSON object field, kept so they can be applied again.

An update mask path such as ``workspace.settings.color`` changes one member of
``settings``. Merged into the value the request read and saved whole, it would
undo a member another request changed in between; so the edits travel with the
merged value, and the service applies them (``rebase``) to the value it reads
under its row lock.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from switchyard.errors import InvalidArgument

# The value of an edit that removes the member (a masked path without data).
CLEAR: Any = object()


class NestedEdits(dict[str, Any]):
    """The edited value of one object field, as a plain dict (what validation and
    the answer see), plus the edits that produced it from the value read."""

    def __init__(self, base: object, *, path: str) -> None:
        if base is None:
            base = {}
        if not isinstance(base, Mapping):
            raise InvalidArgument(
                f"unknown update_mask path {path!r}: the field is not an object",
                field="update_mask.paths",
            )
        super().__init__(copy.deepcopy(dict(base)))
        self.edits: list[tuple[tuple[str, ...], Any, str]] = []

    def add(self, keys: Sequence[str], value: Any, path: str) -> None:
        """Set the member at ``keys`` to ``value`` (CLEAR removes it); ``path`` names it
        in errors."""
        kept = value if value is CLEAR else copy.deepcopy(value)
        self.edits.append((tuple(keys), kept, path))
        edit(self, keys, kept, path)

    def apply(self, current: object) -> dict[str, Any]:
        """The edits applied to ``current``, the field's value as stored now."""
        result = copy.deepcopy(dict(current)) if isinstance(current, Mapping) else {}
        for keys, value, path in self.edits:
            edit(result, keys, value, path)
        return result


def rebase(value: Any, current: object) -> Any:
    """The new value of a field now holding ``current``: nested edits apply to it,
    any other value replaces it."""
    return value.apply(current) if isinstance(value, NestedEdits) else value


def edit(target: object, keys: Sequence[str], value: Any, path: str) -> None:
    """Set (CLEAR: remove) the member at ``keys`` inside ``target``, in place."""
    node: Any = target
    if not isinstance(node, dict):
        raise InvalidArgument(
            f"update_mask path {path!r}: the field is not an object", field="update_mask.paths"
        )
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if child is None:
            if value is CLEAR:
                return  # clearing a member that does not exist changes nothing
            child = node[key] = {}
        if not isinstance(child, dict):
            walked = ".".join(keys[: depth + 1])
            raise InvalidArgument(
                f"update_mask path {path!r}: {walked!r} is not an object",
                field="update_mask.paths",
            )
        node = child
    if value is CLEAR:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = copy.deepcopy(value)
