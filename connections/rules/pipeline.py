"""What happens to one event at one destination: its filters, then each enabled
mapping's trigger, then the mapping. Database-free, so the UI's test panel, the
API's preview and delivery (next issue) share one path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connections.rules import filtering, fql, mapping

NO_MATCHING_MAPPING = "NO_MATCHING_MAPPING"


@dataclass(frozen=True)
class MappingRule:
    """A subscription, compiled once (trigger and mapping) to run on many events."""

    key: str
    name: str
    action: str
    enabled: bool
    trigger: str
    mapping: Any
    predicate: fql.Predicate | None = field(init=False, repr=False, compare=False)
    resolve: Callable[[Any], Any] | None = field(init=False, repr=False, compare=False)
    problem: str = field(init=False, default="", compare=False)

    def __post_init__(self) -> None:
        # Stored rules were validated on save; a catalog or FQL change since then
        # must not crash delivery, so a rule that no longer compiles never sends.
        predicate = resolve = None
        problem = ""
        try:
            predicate = fql.compile(self.trigger)
            resolve = mapping.compile(self.mapping)
        except (fql.FQLError, mapping.InvalidMapping) as exc:
            problem = str(exc)
        object.__setattr__(self, "predicate", predicate)
        object.__setattr__(self, "resolve", resolve)
        object.__setattr__(self, "problem", problem)


@dataclass
class MappingResult:
    rule: MappingRule
    matched: bool
    payload: Any = None
    error: str = ""
    # What the event's content made the trigger or the mapping raise (``error``
    # says it too): the event's outcome at this mapping, not the batch's end.
    exception: Exception | None = None


@dataclass
class Route:
    """``event`` after filters (None: dropped), why it went nowhere if it did."""

    event: dict[str, Any] | None
    filters: list[dict[str, Any]]
    mappings: list[MappingResult] = field(default_factory=list)
    reason: str = ""
    dropped_by: str | None = None

    @property
    def sent(self) -> list[MappingResult]:
        return [m for m in self.mappings if m.matched and not m.error]


def route(
    filters: filtering.CompiledFilters,
    rules: list[MappingRule],
    event: dict[str, Any],
    *,
    explain: bool = False,
) -> Route:
    """Filters run before mappings (Segment: "Actions run after destination
    filters"); an event matching several mappings is sent once per mapping.
    ``explain`` adds what each filter did, for people testing their setup."""
    explained = filters.explain(event) if explain else []
    outcome = filters.apply(event)
    result = Route(event=outcome.event, filters=explained, dropped_by=outcome.dropped_by)
    if outcome.event is None:
        result.reason = outcome.reason or filtering.REASON_FILTERED
        return result
    for rule in rules:
        if rule.predicate is None or rule.resolve is None:
            result.mappings.append(MappingResult(rule, matched=False, error=rule.problem))
            continue
        try:
            matched = rule.predicate.evaluate(outcome.event)
        except fql.FQLError as exc:
            result.mappings.append(MappingResult(rule, matched=False, error=str(exc)))
            continue
        except Exception as exc:  # the event's content, e.g. nesting too deep
            result.mappings.append(_failed(rule, "the trigger", exc))
            continue
        entry = MappingResult(rule, matched=matched and rule.enabled)
        if matched:
            try:
                entry.payload = rule.resolve(outcome.event)
            except Exception as exc:
                entry = _failed(rule, "the mapping", exc)
        result.mappings.append(entry)
    if not result.sent:
        result.reason = NO_MATCHING_MAPPING
    return result


def _failed(rule: MappingRule, what: str, exc: Exception) -> MappingResult:
    error = f"{what} failed on this event: {type(exc).__name__}: {exc}"
    return MappingResult(rule, matched=False, error=error, exception=exc)
