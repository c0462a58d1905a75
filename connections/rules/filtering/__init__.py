"""Destination filters: validate filter specs and apply them to events.

Pure and database-free. A filter (Segment's Public API shape) is
``{"title", "description", "if", "actions", "enabled"}`` where ``if`` is ``"all"`` or
an FQL expression and ``actions`` are ``DROP``, ``SAMPLE`` (``percent``, optional
``path``), ``DROP_PROPERTIES`` and ``ALLOW_PROPERTIES`` (``fields``, keyed by the
object they apply to: ``""`` for the top level, ``properties``, ``traits``,
``context``).

``specs``: the frozen ``FilterSpec`` shape and its stored/API JSON.
``validation``: ``clean_filter_spec(...)`` turns user input into a ``FilterSpec``.
``apply``: ``CompiledFilters(specs)`` compiles a destination's filters once and
``apply(event)`` runs them, returning a ``FilterOutcome``; ``explain(event)`` says
per filter what it did, for the "test this filter" panel.
"""

from connections.rules.filtering.apply import (
    REASON_ERROR,
    REASON_FILTERED,
    REASON_SAMPLED,
    CompiledFilters,
    FilterOutcome,
)
from connections.rules.filtering.specs import (
    ALWAYS_KEPT_TOP_LEVEL,
    DESCRIPTION_MAX,
    FIELD_OBJECTS,
    FILTERS_PER_DESTINATION,
    TITLE_MAX,
    ActionType,
    FilterAction,
    FilterSpec,
    filter_spec_to_json,
)
from connections.rules.filtering.validation import clean_filter_spec, filter_spec_from_json

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
