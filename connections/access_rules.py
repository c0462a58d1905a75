"""How the connections app's models are reached; registered from ``ConnectionsConfig.ready``.

Sources are what source roles scope (all, listed, or labelled). Everything under
a source belongs to it: Source Admins edit its "connected streaming
destinations", mappings, filters and write keys, and whoever sees the source
sees its events.
"""

from __future__ import annotations

from connections.models import (
    Destination,
    DestinationFilter,
    Event,
    Source,
    SourceGrant,
    SourceLabel,
    Subscription,
    WriteKey,
)
from switchyard.access import registry, rules
from switchyard.access.registry import ResourceType

SOURCES = ResourceType(
    name="source",
    model=Source,
    collection="sources",
    grant_model=SourceGrant,
    grant_field="source",
    label_model=SourceLabel,
    label_field="source",
)


def register() -> None:
    registry.register_resource_type(SOURCES, rules.granted(SOURCES))
    registry.register(WriteKey, rules.belongs_to("source", Source))
    registry.register(Destination, rules.belongs_to("source", Source))
    registry.register(Subscription, rules.belongs_to("destination__source", Source))
    registry.register(DestinationFilter, rules.belongs_to("destination__source", Source))
    registry.register(Event, rules.belongs_to("source_id", Source))
