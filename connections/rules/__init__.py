"""The rules events run through, database-free: FQL, the mapping kit, the trigger
builder, destination filters, and the pipeline joining them for one event at one
destination.

The one way in for other code (views, services, the data plane, future Engage
and Reverse ETL apps). Nothing here may import a model, a service or settings:
callers load what is stored and pass it in. ``fql``, ``mapping``, ``triggers``
and ``filtering`` are exported as namespaces because their verbs are generic
(``fql.compile``, ``mapping.validate``, ``triggers.to_fql``); the names most
callers need are exported flat as well.
"""

from connections.rules import filtering, fql, mapping, triggers
from connections.rules.filtering import (
    DESCRIPTION_MAX,
    FIELD_OBJECTS,
    FILTERS_PER_DESTINATION,
    REASON_FILTERED,
    TITLE_MAX,
    CompiledFilters,
    FilterSpec,
    clean_filter_spec,
    filter_spec_from_json,
    filter_spec_to_json,
)
from connections.rules.pipeline import NO_MATCHING_MAPPING, MappingRule, route
from connections.rules.triggers import MATCHES, Condition, TriggerError, to_fql

__all__ = [
    "DESCRIPTION_MAX",
    "FIELD_OBJECTS",
    "FILTERS_PER_DESTINATION",
    "MATCHES",
    "NO_MATCHING_MAPPING",
    "REASON_FILTERED",
    "TITLE_MAX",
    "CompiledFilters",
    "Condition",
    "FilterSpec",
    "MappingRule",
    "TriggerError",
    "clean_filter_spec",
    "filter_spec_from_json",
    "filter_spec_to_json",
    "filtering",
    "fql",
    "mapping",
    "route",
    "to_fql",
    "triggers",
]
