"""Destination filters: validate filter specs and apply them to events.

Pure and database-free. A filter (Segment's Public API shape) is
``{"title", "description", "if", "actions", "enabled"}`` where ``if`` is ``"all"`` or
an FQL expression and ``actions`` are ``DROP``, ``SAMPLE`` (``percent``, optional
``path``), ``DROP_PROPERTIES`` and ``ALLOW_PROPERTIES`` (``fields``, keyed by the
object they apply to: ``""`` for the top level, ``properties``, ``traits``,
``context``).

``clean_filter_spec(...)`` validates user input into a frozen ``FilterSpec``;
``CompiledFilters(specs)`` compiles a destination's filters once and ``apply(event)``
runs them, returning a ``FilterOutcome``; ``explain(event)`` says per filter what it
did, for the "test this filter" panel.

How filters run (decisions, each covered by a test):

- Only enabled filters run. A filter acts only on events its ``if`` matches.
- Every ``if`` is evaluated against the *incoming* event, never against what an
  earlier filter left of it: a PII filter removing ``properties.email`` must not stop
  a later "drop internal emails" filter from matching.
- If any enabled filter's ``if`` fails to evaluate, the event is dropped
  (``FILTER_ERROR``), whatever that filter's actions: "If Segment can't infer your
  intent, Segment logs an internal error and drops the event [...] to prevent
  sensitive information, like a PII filter, from getting through."
- Actions run by kind across all filters: every SAMPLE, then every DROP, then every
  DROP_PROPERTIES, then every ALLOW_PROPERTIES (the documented order "Sample, Drop
  ('Only Sends' are Drops), Drop Properties, Allow Properties"); within a kind, in
  filter order. So conflicting "only send" filters (drop when not X, drop when not Y)
  send nothing, as the docs say.
- The caller's event is never mutated: the first property action works on a copy.
  When no filter changes the event, the outcome carries the caller's own object.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random as _random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connections import fql
from connections.fql.nodes import Field
from switchyard.errors import InvalidArgument
from switchyard.validation import clean_bool, clean_text

__all__ = [
    "ALWAYS_KEPT_TOP_LEVEL",
    "DESCRIPTION_MAX",
    "FIELD_OBJECTS",
    "FILTERS_PER_DESTINATION",
    "REASON_ERROR",
    "REASON_FILTERED",
    "REASON_SAMPLED",
    "TITLE_MAX",
    "ActionType",
    "CompiledFilters",
    "FilterAction",
    "FilterOutcome",
    "FilterSpec",
    "clean_filter_spec",
    "filter_spec_from_json",
    "filter_spec_to_json",
]

logger = logging.getLogger(__name__)

FILTERS_PER_DESTINATION = 10
TITLE_MAX = 64
DESCRIPTION_MAX = 500
FIELD_MAX = 256  # characters in one field path
FIELDS_PER_ACTION = 200

# Why an event was dropped. FILTERED_BY_RULES is Segment's Delivery Overview reason;
# the other two are ours, so delivery stats can tell sampling and errors apart.
REASON_FILTERED = "FILTERED_BY_RULES"
REASON_SAMPLED = "SAMPLED_OUT"
REASON_ERROR = "FILTER_ERROR"

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
_KIND_ORDER = {kind: rank for rank, kind in enumerate(ActionType)}

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


@dataclass(frozen=True)
class FilterOutcome:
    event: dict[str, Any] | None  # None: dropped
    dropped_by: str | None = None  # title of the filter that dropped it
    reason: str | None = None  # REASON_FILTERED, REASON_SAMPLED or REASON_ERROR
    applied: tuple[str, ...] = ()  # titles of the filters that changed the event

    @property
    def dropped(self) -> bool:
        return self.event is None


# --- validation ----------------------------------------------------------------------


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
    cleaned.sort(key=lambda a: _KIND_ORDER[a.type])
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
    if _parse_field(text) is None:
        raise InvalidArgument(
            f"{where} must be a field path such as userId or properties.user_id; got {value!r}",
            field=where,
        )
    return text


def _parse_field(text: str) -> tuple[str, ...] | None:
    """The segments of an FQL field path (``properties.product\\ 1.id``), or None."""
    try:
        node = fql.parse(text)
    except fql.FQLSyntaxError:
        return None
    return node.path if isinstance(node, Field) else None


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


# --- applying --------------------------------------------------------------------------


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


_KEEP_ALL: Any = _Keep()  # an allow-tree leaf: keep this value whole
_REMOVE: Any = object()  # what pruning a value returns when nothing of it is allowed

AllowTree = dict[str, Any]  # key -> AllowTree | _KEEP_ALL


@dataclass
class _Filter:
    spec: FilterSpec
    index: int
    predicate: fql.Predicate | None
    compile_error: str | None


@dataclass
class _Step:
    filter: _Filter
    action: FilterAction
    sample_path: tuple[str, ...] | None = None
    drop_paths: tuple[tuple[str, ...], ...] = ()
    allow_tree: AllowTree | None = None  # for "" present: the whole event
    allow_objects: tuple[tuple[str, AllowTree], ...] = ()  # otherwise: per object
    allowed_display: tuple[str, ...] = ()


@dataclass
class _Trace:
    effects: dict[int, list[str]] = field(default_factory=dict)
    events: dict[int, dict[str, Any] | None] = field(default_factory=dict)


class CompiledFilters:
    """A destination's filters, compiled once; ``apply`` runs them on an event.

    ``random`` is the source of uniform [0, 1) numbers for SAMPLE actions without a
    path (tests inject a fixed one).
    """

    def __init__(
        self, specs: Sequence[FilterSpec], *, random: Callable[[], float] = _random.random
    ) -> None:
        self.specs = tuple(specs)
        self._random = random
        self._filters = [
            _compile_filter(spec, index) for index, spec in enumerate(self.specs) if spec.enabled
        ]
        steps = [_compile_step(flt, action) for flt in self._filters for action in flt.spec.actions]
        steps.sort(key=lambda s: (_KIND_ORDER[s.action.type], s.filter.index))
        self._steps = steps

    def __bool__(self) -> bool:
        return bool(self._filters)

    def apply(self, event: dict[str, Any]) -> FilterOutcome:
        return self._run(event, None)

    def explain(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Per filter, in the order given: what it did to ``event``.

        Each entry: ``title``, ``enabled``, ``matched``, ``effect`` and ``event``, the
        event as it stood after this filter's last action ran (actions run by kind, see
        the module docstring; None once dropped). A disabled filter is still evaluated,
        so the panel can say whether it would match; it changes nothing, and its
        ``event`` is the previous entry's.
        """
        trace = _Trace()
        matched, errors = self._evaluate(event)
        self._run(event, trace, evaluated=(matched, errors))
        out: list[dict[str, Any]] = []
        previous: dict[str, Any] | None = _json_copy(event)
        for index, spec in enumerate(self.specs):
            if not spec.enabled:
                flt = _compile_filter(spec, index)
                try:
                    would = flt.predicate is not None and flt.predicate.evaluate(event)
                    effect = "disabled"
                except Exception as exc:
                    would, effect = False, f"disabled (error: {exc})"
                if flt.compile_error is not None:
                    effect = f"disabled (error: {flt.compile_error})"
                out.append(_entry(spec, would, effect, previous))
                continue
            if index in errors:
                effect = f"error: {errors[index]}"
                if index == min(errors):  # the one apply() names as dropped_by
                    effect += " (event dropped)"
                previous = None
                out.append(_entry(spec, False, effect, None))
                continue
            effects = trace.effects.get(index) or ["no match"]
            if index in trace.events:
                previous = trace.events[index]
            out.append(_entry(spec, matched[index], "; ".join(effects), previous))
        return out

    # ------------------------------------------------------------------------------------

    def _evaluate(self, event: dict[str, Any]) -> tuple[dict[int, bool], dict[int, str]]:
        matched: dict[int, bool] = {}
        errors: dict[int, str] = {}
        for flt in self._filters:
            if flt.predicate is None:
                errors[flt.index] = flt.compile_error or "invalid FQL"
                continue
            try:
                matched[flt.index] = flt.predicate.evaluate(event)
            except Exception as exc:  # fail closed, whatever went wrong
                errors[flt.index] = str(exc)
        return matched, errors

    def _run(
        self,
        event: dict[str, Any],
        trace: _Trace | None,
        *,
        evaluated: tuple[dict[int, bool], dict[int, str]] | None = None,
    ) -> FilterOutcome:
        if not self._filters:
            return FilterOutcome(event)
        matched, errors = evaluated or self._evaluate(event)
        if errors:
            index = min(errors)
            title = self.specs[index].title
            logger.warning(
                "destination filter %r failed to evaluate, dropping event %s: %s",
                title,
                event.get("messageId") if isinstance(event, dict) else None,
                errors[index],
            )
            if trace is not None:
                _not_reached(trace, self._steps, matched, title)
            return FilterOutcome(None, dropped_by=title, reason=REASON_ERROR)

        current = event
        copied = False
        applied: list[str] = []
        for position, step in enumerate(self._steps):
            index = step.filter.index
            title = step.filter.spec.title
            if not matched[index]:
                if trace is not None:
                    trace.events[index] = _json_copy(current)
                continue
            kind = step.action.type
            if kind is ActionType.SAMPLE or kind is ActionType.DROP:
                if kind is ActionType.DROP:
                    effect, reason = "dropped", REASON_FILTERED
                elif self._sample(step, event):
                    _note(trace, index, "kept by sample", current)
                    continue
                else:
                    effect, reason = "sampled out", REASON_SAMPLED
                _note(trace, index, effect, None)
                if trace is not None:
                    _not_reached(trace, self._steps[position + 1 :], matched, title)
                return FilterOutcome(None, dropped_by=title, reason=reason)
            if not copied:
                current = _json_copy(event)
                copied = True
            if kind is ActionType.DROP_PROPERTIES:
                removed: list[str] = []
                for path in step.drop_paths:
                    _drop_path(current, path, "", removed)
                changed = bool(removed)
                text = (
                    f"removed properties [{', '.join(dict.fromkeys(removed))}]"
                    if removed
                    else "no properties to remove"
                )
            else:
                changed = _allow(current, step)
                text = f"allowed only [{', '.join(step.allowed_display)}]"
            if changed and title not in applied:
                applied.append(title)
            _note(trace, index, text, current)
        return FilterOutcome(current, applied=tuple(applied))

    def _sample(self, step: _Step, event: dict[str, Any]) -> bool:
        percent = step.action.percent if step.action.percent is not None else 1.0
        if step.sample_path is not None:
            value = _get_path(event, step.sample_path)
            if value is not None:
                return _stable_fraction(step.filter.spec.title, value) < percent
            # No value to be consistent about (an anonymous event): sample at random,
            # so the kept share stays near ``percent``.
        return self._random() < percent


def _note(trace: _Trace | None, index: int, effect: str, event: dict[str, Any] | None) -> None:
    if trace is None:
        return
    trace.effects.setdefault(index, []).append(effect)
    trace.events[index] = None if event is None else _json_copy(event)


def _not_reached(
    trace: _Trace, steps: Sequence[_Step], matched: dict[int, bool], dropped_by: str
) -> None:
    """After a drop: the remaining steps never ran; their filters end with no event."""
    for step in steps:
        index = step.filter.index
        trace.events[index] = None
        if matched.get(index) and index not in trace.effects:
            trace.effects[index] = [f"not reached: event dropped by {dropped_by!r}"]


def _entry(
    spec: FilterSpec, matched: bool, effect: str, event: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "title": spec.title,
        "enabled": spec.enabled,
        "matched": matched,
        "effect": effect,
        "event": event,
    }


def _compile_filter(spec: FilterSpec, index: int) -> _Filter:
    try:
        return _Filter(spec, index, fql.compile(spec.if_), None)
    except fql.FQLError as exc:
        # A stored filter whose FQL no longer compiles drops every event (fail closed).
        return _Filter(spec, index, None, f"invalid FQL: {exc}")


def _compile_step(flt: _Filter, action: FilterAction) -> _Step:
    step = _Step(flt, action)
    if action.type is ActionType.SAMPLE and action.path:
        step.sample_path = _parse_field(action.path) or (action.path,)
    elif action.type is ActionType.DROP_PROPERTIES:
        step.drop_paths = tuple(_split(obj, name) for obj, names in action.fields for name in names)
    elif action.type is ActionType.ALLOW_PROPERTIES:
        step.allowed_display = tuple(
            ".".join(_split(obj, name)) for obj, names in action.fields for name in names
        )
        objects = dict(action.fields)
        if "" in objects:
            tree: AllowTree = {key: _KEEP_ALL for key in ALWAYS_KEPT_TOP_LEVEL}
            for obj, names in action.fields:
                for name in names:
                    _add_allowed(tree, _split(obj, name))
            step.allow_tree = tree
        else:
            per_object: list[tuple[str, AllowTree]] = []
            for obj, names in action.fields:
                sub: AllowTree = {}
                for name in names:
                    _add_allowed(sub, tuple(name.split(".")))
                per_object.append((obj, sub))
            step.allow_objects = tuple(per_object)
    return step


def _split(obj: str, name: str) -> tuple[str, ...]:
    segments = tuple(name.split("."))
    return (obj, *segments) if obj else segments


def _add_allowed(tree: AllowTree, path: tuple[str, ...]) -> None:
    node = tree
    for segment in path[:-1]:
        child = node.get(segment)
        if child is _KEEP_ALL:
            return  # an ancestor is allowed whole already
        if child is None:
            child = node[segment] = {}
        node = child
    node[path[-1]] = _KEEP_ALL


def _drop_path(node: Any, path: tuple[str, ...], prefix: str, removed: list[str]) -> None:
    """Remove ``path`` from ``node`` in place; through an array, from each of its objects
    (``properties.products.price``: the docs' ``<propertyType>.<arrayName>.<element>``)."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                _drop_path(item, path, prefix + "[].", removed)
        return
    if not isinstance(node, dict) or path[0] not in node:
        return
    head, rest = path[0], path[1:]
    if not rest:
        del node[head]
        removed.append((prefix + head).replace(".[]", "[]"))
        return
    _drop_path(node[head], rest, f"{prefix}{head}.", removed)


def _allow(event: dict[str, Any], step: _Step) -> bool:
    """Apply an allow-list in place; whether anything was removed.

    Objects the action does not name are left alone (an allow-list on ``properties``
    does not touch ``traits``). Under a named object, only the listed paths stay; a
    listed path through an array keeps those fields of each object in it and drops
    the array's non-object items. A value in the way of a listed path that is neither
    object nor array holds nothing allowed and is removed.
    """
    if step.allow_tree is not None:
        return _prune_in_place(event, step.allow_tree)
    changed = False
    for obj, tree in step.allow_objects:
        if obj not in event:
            continue
        result, sub_changed = _prune(event[obj], tree)
        if result is _REMOVE:
            event[obj] = {}
            changed = True
        else:
            event[obj] = result
            changed = changed or sub_changed
    return changed


def _prune_in_place(node: dict[str, Any], tree: AllowTree) -> bool:
    changed = False
    for key in list(node):
        sub = tree.get(key)
        if sub is None:
            del node[key]
            changed = True
        elif sub is not _KEEP_ALL:
            result, sub_changed = _prune(node[key], sub)
            if result is _REMOVE:
                del node[key]
                changed = True
            else:
                node[key] = result
                changed = changed or sub_changed
    return changed


def _prune(value: Any, tree: AllowTree) -> tuple[Any, bool]:
    if isinstance(value, dict):
        return value, _prune_in_place(value, tree)
    if isinstance(value, list):
        kept: list[Any] = []
        changed = False
        for item in value:
            if not isinstance(item, dict):
                changed = True
                continue
            changed = _prune_in_place(item, tree) or changed
            kept.append(item)
        return kept, changed
    return _REMOVE, True


def _get_path(event: Any, path: tuple[str, ...]) -> Any:
    value = event
    for segment in path:
        if not isinstance(value, dict):
            return None
        value = value.get(segment)
    return value


def _stable_fraction(salt: str, value: Any) -> float:
    """A fraction in [0, 1) fixed by ``value`` (and the filter title, so two filters
    sampling on the same path choose independently)."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.blake2b(f"{salt}\x00{encoded}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts and lists are copied, scalars shared)."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value
