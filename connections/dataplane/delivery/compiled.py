"""A destination's stored filters and mappings, compiled for the rules engine
(``connections.rules``): what delivery, the test panel and the Event Tester run."""

from __future__ import annotations

from connections.models import Destination
from connections.rules import CompiledFilters, MappingRule, filter_spec_from_json


def rules_of(destination: Destination) -> list[MappingRule]:
    return [
        MappingRule(
            key=s.key_id,
            name=s.name,
            action=s.action,
            enabled=s.enabled,
            trigger=s.trigger,
            mapping=s.mapping,
        )
        for s in destination.subscriptions.order_by("position", "id")
    ]


def filters_of(destination: Destination) -> CompiledFilters:
    rows = destination.filters.order_by("position", "id")
    return CompiledFilters(
        [
            filter_spec_from_json(
                {
                    "title": r.title,
                    "description": r.description,
                    "if": r.condition,
                    "actions": r.actions,
                    "enabled": r.enabled,
                }
            )
            for r in rows
        ]
    )
