"""Destination filters applied to events.

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
import random as _random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connections.rules import fql
from connections.rules.filtering.specs import (
    ALWAYS_KEPT_TOP_LEVEL,
    KIND_ORDER,
    ActionType,
    FilterAction,
    FilterSpec,
    parse_field,
)

logger = logging.getLogger(__name__)

# Why an event was dropped. FILTERED_BY_RULES is Segment's Delivery Overview reason;
# the other two are ours, so delivery stats can tell sampling and errors apart.
REASON_FILTERED = "FILTERED_BY_RULES"
REASON_SAMPLED = "SAMPLED_OUT"
REASON_ERROR = "FILTER_ERROR"


@dataclass(frozen=True)
class FilterOutcome:
    event: dict[str, Any] | None  # None: dropped
    dropped_by: str | None = None  # title of the filter that dropped it
    reason: str | None = None  # REASON_FILTERED, REASON_SAMPLED or REASON_ERROR
    applied: tuple[str, ...] = ()  # titles of the filters that changed the event

    @property
    def dropped(self) -> bool:
        return self.event is None


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
        steps.sort(key=lambda s: (KIND_ORDER[s.action.type], s.filter.index))
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
        step.sample_path = parse_field(action.path) or (action.path,)
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
