"""Computed trait definitions (reference engage.md §4.3), in the style of the
audience definitions:

    {"version": 1, "type": "users" | "accounts",
     "kind": "event_counter" | "aggregation" | "most_frequent" | "first" | "last"
           | "unique_list" | "unique_list_count",
     "event": "Order Completed",
     "where": PNODE | null,            # property/context conditions, literal values
     "window": {"type": "within", "value": 90, "unit": "days", "relative_to": "now"} | null,
     "exclude_sources": ["src", ...],  # optional
     "property": "revenue",            # every kind but event_counter
     "aggregation": "sum" | "avg" | "min" | "max",   # aggregation only
     "min_frequency": 2}               # most_frequent only; optional, 2 by default

Account-level traits run over the events of every user linked to the account."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from engage.definitions import schema
from engage.definitions.audiences import BATCH, REALTIME, Classification
from engage.definitions.errors import DefinitionError, pointer, unique

MIN_FREQUENCY = 2
MAX_CONDITIONS = 50
_NO_PROPERTY = ("event_counter",)


def validate_trait(definition: object) -> list[DefinitionError]:
    """Every problem of a computed trait definition: the shape, then which
    parameters each kind takes (``property`` for all but an event counter,
    ``aggregation`` for an aggregation only, ``min_frequency`` for most frequent
    only), finite numbers and at most 50 conditions."""
    errors = schema.shape_errors(definition, "trait")
    if not isinstance(definition, dict) or any(e.code == "too_deep" for e in errors):
        return errors
    kind = definition.get("kind")
    if kind in schema.TRAIT_KINDS:
        if kind in _NO_PROPERTY and "property" in definition:
            errors.append(
                DefinitionError(
                    "/property",
                    "an event counter counts events: it takes no property",
                    "not_allowed",
                )
            )
        if kind not in _NO_PROPERTY and "property" not in definition:
            errors.append(DefinitionError("/property", "is required", "required"))
        if kind == "aggregation" and "aggregation" not in definition:
            errors.append(
                DefinitionError(
                    "/aggregation", "is required: 'sum', 'avg', 'min' or 'max'", "required"
                )
            )
        if kind != "aggregation" and "aggregation" in definition:
            errors.append(
                DefinitionError("/aggregation", "is for an aggregation trait only", "not_allowed")
            )
        if kind != "most_frequent" and "min_frequency" in definition:
            errors.append(
                DefinitionError(
                    "/min_frequency", "is for a most frequent trait only", "not_allowed"
                )
            )
    count = 0
    for node, path in _where_nodes(definition):
        if node.get("kind") in ("property", "context"):
            count += 1
            value = node.get("value")
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(item, float) and not math.isfinite(item):
                    parts = (*path, "value", index) if isinstance(value, list) else (*path, "value")
                    errors.append(
                        DefinitionError(pointer(parts), "must be a finite number", "type")
                    )
    if count > MAX_CONDITIONS:
        errors.append(
            DefinitionError(
                "/where",
                f"a computed trait has at most {MAX_CONDITIONS} conditions; this one has {count}",
                "too_many_conditions",
            )
        )
    return unique(errors)


def _where_nodes(definition: dict) -> Iterator[tuple[dict, tuple[str | int, ...]]]:
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(definition.get("where"), ("where",))]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node, path
        if isinstance(node.get("args"), list):
            stack.extend(((a, (*path, "args", i)) for i, a in enumerate(node["args"])))
        elif "arg" in node:
            stack.append((node["arg"], (*path, "arg")))


def min_frequency(definition: dict) -> int:
    """A most frequent trait's threshold: how often a value must have been seen."""
    value = definition.get("min_frequency", MIN_FREQUENCY)
    return value if isinstance(value, int) else MIN_FREQUENCY


def classify_trait(definition: object) -> Classification:
    """Real-time, but account-level traits (over every linked user's events) are
    computed in batch, as account audiences are."""
    if isinstance(definition, dict) and definition.get("type") == schema.ACCOUNTS:
        return Classification(
            BATCH,
            (
                DefinitionError(
                    "/type", "account-level computed traits are computed in batch", "accounts"
                ),
            ),
        )
    return Classification(REALTIME, ())
