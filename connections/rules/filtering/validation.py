"""Validation of user input (API, UI or a stored row) into a ``FilterSpec``.

Raises InvalidArgument naming the field ("title", "if", "actions[0].percent", ...)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from connections.rules import fql
from connections.rules.filtering.specs import (
    ALWAYS_KEPT_TOP_LEVEL,
    DESCRIPTION_MAX,
    FIELD_MAX,
    FIELD_OBJECTS,
    FIELDS_PER_ACTION,
    KIND_ORDER,
    TITLE_MAX,
    ActionType,
    Fields,
    FilterAction,
    FilterSpec,
    parse_field,
)
from switchyard.errors import InvalidArgument
from switchyard.validation import clean_bool, clean_text

_ACTION_KEYS: dict[ActionType, frozenset[str]] = {
    ActionType.DROP: frozenset({"type"}),
    ActionType.SAMPLE: frozenset({"type", "percent", "path"}),
    ActionType.DROP_PROPERTIES: frozenset({"type", "fields"}),
    ActionType.ALLOW_PROPERTIES: frozenset({"type", "fields"}),
}


def clean_filter_spec(
    *, title: object, description: object, if_: object, actions: object, enabled: object
) -> FilterSpec:
    """Validate user input (API or UI) into a normalized FilterSpec.

    Raises InvalidArgument naming the field ("title", "if", "actions[0].percent", ...).
    """
    for name, value in (("title", title), ("description", description)):
        if value is not None and not isinstance(value, str):
            raise InvalidArgument(f"{name} must be a string", field=name)
    clean_title = clean_text(title, field="title", limit=TITLE_MAX, empty="title is required")
    clean_description = clean_text(
        description, field="description", limit=DESCRIPTION_MAX, required=False
    )
    clean_if = _clean_if(if_)
    clean_actions = _clean_actions(actions)
    clean_enabled = clean_bool(enabled, field="enabled")
    return FilterSpec(
        title=clean_title,
        description=clean_description,
        if_=clean_if,
        actions=clean_actions,
        enabled=clean_enabled,
    )


def filter_spec_from_json(data: Mapping[str, Any]) -> FilterSpec:
    """Validate the stored/API shape back into a FilterSpec."""
    if not isinstance(data, Mapping):
        raise InvalidArgument("a filter must be an object")
    return clean_filter_spec(
        title=data.get("title"),
        description=data.get("description"),
        if_=data.get("if"),
        actions=data.get("actions"),
        enabled=data.get("enabled"),
    )


def _clean_if(value: object) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidArgument('if must be a string: an FQL expression or "all"', field="if")
    text = (value or "").strip()
    if not text:
        raise InvalidArgument(
            'if is required: an FQL expression, or "all" to match every event', field="if"
        )
    if text == "all":
        return text
    try:
        fql.compile(text)
    except fql.FQLSyntaxError as exc:
        raise InvalidArgument(exc.describe(text), field="if") from None
    return text


def _clean_actions(value: object) -> tuple[FilterAction, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidArgument("actions must be a non-empty list of actions", field="actions")
    seen: dict[ActionType, int] = {}
    cleaned: list[FilterAction] = []
    for index, raw in enumerate(value):
        action = _clean_action(raw, f"actions[{index}]")
        if action.type in seen:
            raise InvalidArgument(
                f"actions[{index}]: a filter may have only one {action.type} action "
                f"(actions[{seen[action.type]}] is one already)",
                field=f"actions[{index}].type",
            )
        seen[action.type] = index
        cleaned.append(action)
    if ActionType.DROP in seen and len(seen) > 1:
        others = ", ".join(str(t) for t in seen if t is not ActionType.DROP)
        raise InvalidArgument(
            f"DROP cannot be combined with {others}: DROP discards every event the filter "
            "matches, so there is nothing left to sample or change; use a separate filter",
            field="actions",
        )
    cleaned.sort(key=lambda a: KIND_ORDER[a.type])
    return tuple(cleaned)


def _clean_action(raw: object, where: str) -> FilterAction:
    if not isinstance(raw, Mapping):
        raise InvalidArgument(f'{where} must be an object with a "type"', field=where)
    kind_raw = raw.get("type")
    kind_text = kind_raw.strip().upper() if isinstance(kind_raw, str) else ""
    try:
        kind = ActionType(kind_text)
    except ValueError:
        allowed = ", ".join(ActionType)
        raise InvalidArgument(
            f"{where}.type {kind_raw!r} is not one of {allowed}", field=f"{where}.type"
        ) from None
    for key in raw:
        # Null for a key another type uses is tolerated: the Public API's own
        # responses carry "fields": null and the like on every action.
        if key not in _ACTION_KEYS[kind] and raw[key] is not None:
            raise InvalidArgument(
                f"{where}.{key} does not apply to a {kind} action", field=f"{where}.{key}"
            )
    if kind is ActionType.DROP:
        return FilterAction(kind)
    if kind is ActionType.SAMPLE:
        return FilterAction(
            kind,
            percent=_clean_percent(raw.get("percent"), f"{where}.percent"),
            path=_clean_sample_path(raw.get("path"), f"{where}.path"),
        )
    return FilterAction(kind, fields=_clean_fields(raw.get("fields"), kind, f"{where}.fields"))


def _clean_percent(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(
            f"{where} is required: the fraction of matching events to keep, "
            "greater than 0 and at most 1 (0.1 keeps 10%)",
            field=where,
        )
    number = float(value)
    if not math.isfinite(number) or not 0 < number <= 1:
        hint = f" (did you mean {number / 100:g}?)" if 1 < number <= 100 else ""
        if number == 0:
            hint = " (to send none, use a DROP action)"
        raise InvalidArgument(
            f"{where} must be greater than 0 and at most 1, a fraction of matching events "
            f"to keep; got {value!r}{hint}",
            field=where,
        )
    return number


def _clean_sample_path(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"{where} must be a field path such as userId", field=where)
    text = value.strip()
    if not text:
        return None
    if parse_field(text) is None:
        raise InvalidArgument(
            f"{where} must be a field path such as userId or properties.user_id; got {value!r}",
            field=where,
        )
    return text


def _clean_fields(value: object, kind: ActionType, where: str) -> Fields:
    objects = ", ".join(f'"{o}"' for o in FIELD_OBJECTS)
    if not isinstance(value, Mapping) or not value:
        raise InvalidArgument(
            f"{where} is required for {kind}: an object mapping {objects} "
            'to lists of field names, e.g. {"properties": ["email"]}',
            field=where,
        )
    unknown = [k for k in value if k not in FIELD_OBJECTS]
    if unknown:
        raise InvalidArgument(
            f"{where} has unknown object {unknown[0]!r}; use one of {objects}", field=where
        )
    total = 0
    cleaned: list[tuple[str, tuple[str, ...]]] = []
    for obj in FIELD_OBJECTS:  # stored in a fixed order
        if obj not in value:
            continue
        label = f'{where}[""]' if obj == "" else f"{where}.{obj}"
        names = value[obj]
        if not isinstance(names, list | tuple) or not names:
            raise InvalidArgument(f"{label} must be a non-empty list of field names", field=where)
        paths: list[str] = []
        for i, name in enumerate(names):
            paths.append(_clean_field_name(name, f"{label}[{i}]", obj, kind, where))
        unique = tuple(dict.fromkeys(paths))
        total += len(unique)
        cleaned.append((obj, unique))
    if total > FIELDS_PER_ACTION:
        raise InvalidArgument(
            f"{where} lists {total} fields; at most {FIELDS_PER_ACTION} are allowed", field=where
        )
    return tuple(cleaned)


def _clean_field_name(name: object, label: str, obj: str, kind: ActionType, where: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"{label} must be a non-empty string", field=where)
    if len(name) > FIELD_MAX:
        raise InvalidArgument(f"{label} must be at most {FIELD_MAX} characters", field=where)
    if any(not segment.strip() for segment in name.split(".")):
        raise InvalidArgument(
            f"{label} {name!r} has an empty segment; write paths as a.b "
            "(products.price removes price from every object of the products array)",
            field=where,
        )
    if obj == "" and kind is ActionType.DROP_PROPERTIES and name in ALWAYS_KEPT_TOP_LEVEL:
        raise InvalidArgument(
            f"{label}: {name} cannot be dropped; every event needs it to be delivered",
            field=where,
        )
    return name
