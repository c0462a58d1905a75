"""The shape of a destination filter: a frozen ``FilterSpec`` of ``FilterAction``s,
the limits user input is held to, and the stored/API JSON of a spec."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from connections.rules import fql
from connections.rules.fql.nodes import Field

FILTERS_PER_DESTINATION = 10
TITLE_MAX = 64
DESCRIPTION_MAX = 500
FIELD_MAX = 256  # characters in one field path
FIELDS_PER_ACTION = 200

# The objects ``fields`` may name; "" is the top level of the event.
FIELD_OBJECTS = ("", "properties", "traits", "context")

# Top-level keys that identify the message and place it in time. A top-level ("")
# allow-list always keeps them and DROP_PROPERTIES may not remove them: without them
# the event cannot be delivered or deduplicated at all.
ALWAYS_KEPT_TOP_LEVEL = ("type", "messageId", "timestamp")


class ActionType(StrEnum):
    SAMPLE = "SAMPLE"
    DROP = "DROP"
    DROP_PROPERTIES = "DROP_PROPERTIES"
    ALLOW_PROPERTIES = "ALLOW_PROPERTIES"


# The documented run order; also the order actions are stored in.
KIND_ORDER = {kind: rank for rank, kind in enumerate(ActionType)}

_ACTION_KEYS: dict[ActionType, frozenset[str]] = {
    ActionType.DROP: frozenset({"type"}),
    ActionType.SAMPLE: frozenset({"type", "percent", "path"}),
    ActionType.DROP_PROPERTIES: frozenset({"type", "fields"}),
    ActionType.ALLOW_PROPERTIES: frozenset({"type", "fields"}),
}

Fields = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class FilterAction:
    type: ActionType
    percent: float | None = None  # SAMPLE: the fraction of matching events kept, (0, 1]
    path: str | None = None  # SAMPLE: field whose value decides, so it is stable per value
    fields: Fields = ()  # *_PROPERTIES: ((object, (field path, ...)), ...)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", ActionType(self.type))

    def fields_dict(self) -> dict[str, list[str]]:
        return {obj: list(paths) for obj, paths in self.fields}


@dataclass(frozen=True)
class FilterSpec:
    title: str
    description: str
    if_: str
    actions: tuple[FilterAction, ...]
    enabled: bool


def filter_spec_to_json(spec: FilterSpec) -> dict[str, Any]:
    """The stored and API shape: {"title", "description", "if", "actions", "enabled"}."""
    actions: list[dict[str, Any]] = []
    for action in spec.actions:
        item: dict[str, Any] = {"type": str(action.type)}
        if action.type is ActionType.SAMPLE:
            item["percent"] = action.percent
            if action.path is not None:
                item["path"] = action.path
        elif action.fields:
            item["fields"] = action.fields_dict()
        actions.append(item)
    return {
        "title": spec.title,
        "description": spec.description,
        "if": spec.if_,
        "actions": actions,
        "enabled": spec.enabled,
    }


def parse_field(text: str) -> tuple[str, ...] | None:
    """The segments of an FQL field path (``properties.product\\ 1.id``), or None."""
    try:
        node = fql.parse(text)
    except fql.FQLSyntaxError:
        return None
    return node.path if isinstance(node, Field) else None
