"""Audience definitions (reference engage.md §12.2): validation, the keys and
traits a definition references, cycles through other audiences, and the
real-time / batch classification.

Every function takes the JSON document as stored (``dict``). Validation runs
the shape check (:mod:`engage.definitions.schema`) and the rules below on the
whole document and reports every problem it finds."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, Literal, NamedTuple

from engage.definitions import schema
from engage.definitions.errors import DefinitionError, pointer, unique
from engage.definitions.keys import key_error

MAX_PREDICATES = 50
CYCLE_MESSAGE = "The audience would create a cycle by referencing another audience"

ComputeMode = Literal["realtime", "batch"]
REALTIME: ComputeMode = "realtime"
BATCH: ComputeMode = "batch"

_PREDICATE_KINDS = ("event", "trait", "audience", "property", "context")
_HOURS = {"hours": 1, "days": 24}

Path = tuple[str | int, ...]


class _At(NamedTuple):
    """Where a node sits: inside a where (and of which event), under a quantifier."""

    where: bool = False
    funnel_child: bool = False  # the where belongs to a following (child) event
    quantified: bool = False


_TOP = _At()


def _walk(node: object, path: Path, at: _At = _TOP) -> Iterator[tuple[dict, Path, _At]]:
    """Every node of a (possibly malformed) tree, depth first, in document order."""
    if not isinstance(node, dict):
        return
    yield node, path, at
    op = node.get("op")
    if op in schema.GROUP_OPS and isinstance(node.get("args"), list):
        for index, arg in enumerate(node["args"]):
            yield from _walk(arg, (*path, "args", index), at)
    elif op in ("not", *schema.QUANTIFIERS):
        inner = at._replace(quantified=True) if op in schema.QUANTIFIERS else at
        yield from _walk(node.get("arg"), (*path, "arg"), inner)
    elif node.get("kind") == "event" and node.get("where") is not None:
        child = at.where  # an event inside a where is a funnel step
        yield from _walk(
            node["where"], (*path, "where"), at._replace(where=True, funnel_child=child)
        )


def _nodes(definition: object) -> Iterator[tuple[dict, Path, _At]]:
    if isinstance(definition, dict):
        yield from _walk(definition.get("root"), ("root",))


def validate_audience(
    definition: object, *, mode: ComputeMode | None = None
) -> list[DefinitionError]:
    """Every problem of an audience definition, shape first, then the rules:
    at most 50 conditions; ANY/ALL/NONE only in accounts audiences and not
    nested; in accounts audiences, event conditions under a quantifier; a
    ``between`` window's start before its end; parent property references only in
    a funnel step's where; finite numbers; ISO 8601 dates for the date operators;
    audience keys in key form; ``include_historical`` false only for a real-time
    audience (``mode``, from :func:`classify`, when the caller knows it;
    otherwise what the definition alone makes batch)."""
    errors = schema.shape_errors(definition, "audience")
    if any(e.code == "too_deep" for e in errors):
        return errors
    type_ = definition.get("type") if isinstance(definition, dict) else None
    count = 0
    for node, path, at in _nodes(definition):
        if node.get("kind") in _PREDICATE_KINDS:
            count += 1
        errors.extend(_node_errors(node, path, at, type_))
    if count > MAX_PREDICATES:
        errors.append(
            DefinitionError(
                "/root",
                f"an audience has at most {MAX_PREDICATES} conditions; this one has {count}",
                "too_many_conditions",
            )
        )
    if isinstance(definition, dict) and definition.get("include_historical") is False:
        batch = mode == BATCH if mode is not None else bool(classify(definition).reasons)
        if batch:
            errors.append(
                DefinitionError(
                    "/include_historical",
                    "a batch audience always includes historical data; only a real-time "
                    "audience can leave it out",
                    "historical_batch",
                )
            )
    return unique(errors)


def _node_errors(node: dict, path: Path, at: _At, type_: object) -> Iterator[DefinitionError]:
    op, kind = node.get("op"), node.get("kind")
    if op in schema.QUANTIFIERS and not at.where:  # the shape refuses them in a where
        if type_ != schema.ACCOUNTS:
            yield DefinitionError(
                pointer((*path, "op")),
                "ANY, ALL and NONE are for accounts audiences ('type': 'accounts')",
                "quantifier",
            )
        elif at.quantified:
            yield DefinitionError(
                pointer((*path, "op")),
                "ANY, ALL and NONE do not nest: the condition under one is about a single user",
                "quantifier",
            )
    elif kind == "event":
        if type_ == schema.ACCOUNTS and not at.quantified and not at.where:
            yield DefinitionError(
                pointer(path),
                "in an accounts audience an event condition "
                "goes under ANY, ALL or NONE (users perform events)",
                "quantifier",
            )
        window = node.get("window")
        if isinstance(window, dict) and window.get("type") == "between":
            start, end = _hours(window.get("start")), _hours(window.get("end"))
            if start is not None and end is not None and start >= end:
                yield DefinitionError(
                    pointer((*path, "window")),
                    "an 'in between' window "
                    "starts nearer to now than it ends: 'start' must be "
                    "less than 'end'",
                    "window",
                )
    elif kind == "audience":
        message = key_error(node.get("audience_key"))
        if message and isinstance(node.get("audience_key"), str) and node["audience_key"]:
            yield DefinitionError(pointer((*path, "audience_key")), message, "key")
    if kind in ("trait", "property", "context"):
        yield from _value_errors(node, path, at)


def _value_errors(node: dict, path: Path, at: _At) -> Iterator[DefinitionError]:
    value, cmp = node.get("value"), node.get("cmp")
    where = pointer((*path, "value"))
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if isinstance(item, float) and not math.isfinite(item):
            at_item = pointer((*path, "value", index)) if isinstance(value, list) else where
            yield DefinitionError(at_item, "must be a finite number", "type")
    if isinstance(value, dict) and value.get("ref") == "parent_property" and not at.funnel_child:
        yield DefinitionError(
            where,
            "a parent property reference is for a condition in the "
            "where of a following event (a funnel step)",
            "reference",
        )
    if cmp in schema.DATE_CMPS and isinstance(value, str) and value and _instant(value) is None:
        yield DefinitionError(
            where, "must be an ISO 8601 date or time, e.g. '2024-05-01T00:00:00Z'", "date"
        )


def _hours(duration: object) -> int | None:
    if not isinstance(duration, dict):
        return None
    value, unit = duration.get("value"), duration.get("unit")
    if isinstance(value, int) and not isinstance(value, bool) and unit in _HOURS:
        return value * _HOURS[unit]
    return None


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class References(NamedTuple):
    """What a definition refers to by name. ``audiences`` and ``traits`` hold every
    key and trait name (trait conditions and trait references in values);
    ``account_audiences`` and ``account_traits`` the ones evaluated on the account
    itself (an accounts audience, outside ANY/ALL/NONE); the others are about users."""

    audiences: frozenset[str]
    traits: frozenset[str]
    account_audiences: frozenset[str]
    account_traits: frozenset[str]


def references(definition: object) -> References:
    """The audience keys and trait names ``definition`` refers to."""
    accounts = isinstance(definition, dict) and definition.get("type") == schema.ACCOUNTS
    found: dict[str, set[str]] = {k: set() for k in References._fields}
    for node, _path, at in _nodes(definition):
        on_account = accounts and not at.quantified
        kind = node.get("kind")
        name: object = None
        if kind == "audience":
            name = node.get("audience_key")
            if isinstance(name, str):
                found["audiences"].add(name)
                if on_account:
                    found["account_audiences"].add(name)
            continue
        if kind == "trait":
            name = node.get("trait")
        value = node.get("value")
        ref_name = value.get("name") if isinstance(value, dict) and _is_trait_ref(value) else None
        for candidate in (name, ref_name):
            if isinstance(candidate, str):
                found["traits"].add(candidate)
                if on_account and not at.where:
                    found["account_traits"].add(candidate)
    return References(**{k: frozenset(v) for k, v in found.items()})


def _is_trait_ref(value: object) -> bool:
    return isinstance(value, dict) and value.get("ref") == "trait"


def cycle_errors(
    key: str, definition: object, depends_on: Callable[[str], Iterable[str]]
) -> list[DefinitionError]:
    """The docs' error ("The audience would create a cycle by referencing another
    audience") at each audience condition of ``definition`` (the definition of
    audience ``key``) that leads back to ``key``, directly or through the stored
    audiences: ``depends_on(k)`` answers the audience keys that stored audience
    ``k`` references (empty for an unknown key)."""
    reaches: dict[str, bool] = {}

    def leads_back(start: str) -> bool:
        # Iterative search; the stored graph is acyclic when every save was
        # checked, but a cycle there must not hang us.
        if start in reaches:
            return reaches[start]
        seen, stack, found = {start}, [start], False
        while stack and not found:
            current = stack.pop()
            if current == key:
                found = True
                break
            for nxt in depends_on(current) or ():  # None: unknown
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        reaches[start] = found
        return found

    errors = []
    for node, path, _at in _nodes(definition):
        target = node.get("audience_key")
        if node.get("kind") == "audience" and isinstance(target, str) and leads_back(target):
            errors.append(DefinitionError(pointer((*path, "audience_key")), CYCLE_MESSAGE, "cycle"))
    return errors


class Classification(NamedTuple):
    """``mode`` and, for a batch audience, every reason (where and why)."""

    mode: ComputeMode
    reasons: tuple[DefinitionError, ...]


def classify(
    definition: object,
    *,
    is_batch_trait: Callable[[str], bool] | None = None,
    is_batch_audience: Callable[[str], bool] | None = None,
) -> Classification:
    """Real-time unless the definition needs batch (reference §5.3, §12.2): an
    accounts audience, a funnel step (window relative to the parent event), a
    dynamic reference (``{"ref": ...}``), an ``in between`` window, a date
    operator on a time without a zone (no trailing ``Z`` or offset), or a
    reference to a batch trait (``is_batch_trait``: SQL traits, and batch
    computed traits) or a batch audience (``is_batch_audience``; the stored
    audience's own mode already carries what it references)."""
    reasons: list[DefinitionError] = []

    def because(path: Path, message: str, code: str) -> None:
        reasons.append(DefinitionError(pointer(path), message, code))

    if isinstance(definition, dict) and definition.get("type") == schema.ACCOUNTS:
        because(("type",), "accounts audiences are computed in batch", "accounts")
    for node, path, _at in _nodes(definition):
        kind = node.get("kind")
        window = node.get("window")
        if kind == "event" and isinstance(window, dict):
            if window.get("relative_to") == "parent":
                because(
                    (*path, "window"),
                    "a funnel (an event within a time of its parent event) is computed in batch",
                    "funnel",
                )
            elif window.get("type") == "between":
                because((*path, "window"), "an 'in between' window is computed in batch", "between")
        value = node.get("value")
        if isinstance(value, dict) and "ref" in value:
            because(
                (*path, "value"),
                "a dynamic reference (a parent property or a trait "
                "as the value) is computed in batch",
                "reference",
            )
        if isinstance(value, dict) and _is_trait_ref(value) and is_batch_trait:
            ref = str(value.get("name"))
            if is_batch_trait(ref):
                because((*path, "value"), f"trait {ref!r} is computed in batch", "batch_trait")
        if kind == "trait":
            name = node.get("trait")
            if isinstance(name, str) and is_batch_trait and is_batch_trait(name):
                because((*path, "trait"), f"trait {name!r} is computed in batch", "batch_trait")
            if node.get("cmp") in schema.DATE_CMPS and isinstance(value, str):
                instant = _instant(value)
                if instant is None or instant.tzinfo is None:
                    because(
                        (*path, "value"),
                        "a date without a time zone (a trailing 'Z') is compared in batch",
                        "timezone",
                    )
        if kind == "audience" and is_batch_audience:
            key = node.get("audience_key")
            if isinstance(key, str) and is_batch_audience(key):
                because(
                    (*path, "audience_key"),
                    f"audience {key!r} is computed in batch",
                    "batch_audience",
                )
    return Classification(BATCH if reasons else REALTIME, tuple(reasons))


def predicates(definition: object) -> int:
    """How many conditions (events, traits, audiences, properties) a definition has."""
    return sum(1 for node, _p, _a in _nodes(definition) if node.get("kind") in _PREDICATE_KINDS)


def walk(definition: Any) -> Iterator[tuple[dict, str]]:
    """Every node of a definition's tree (groups, conditions, where contents) with
    its JSON Pointer, in document order."""
    for node, path, _at in _nodes(definition):
        yield node, pointer(path)


def check_audience(
    definition: object,
    *,
    key: str | None = None,
    depends_on: Callable[[str], Iterable[str]] | None = None,
    is_batch_trait: Callable[[str], bool] | None = None,
    is_batch_audience: Callable[[str], bool] | None = None,
) -> tuple[Classification, list[DefinitionError]]:
    """What a save needs in one call: the classification and every error
    (:func:`validate_audience` with that mode, and with ``key`` and ``depends_on``
    the cycles through the stored audiences)."""
    result = classify(
        definition, is_batch_trait=is_batch_trait, is_batch_audience=is_batch_audience
    )
    errors = validate_audience(definition, mode=result.mode)
    if key is not None and depends_on is not None:
        errors += cycle_errors(key, definition, depends_on)
    return result, errors
