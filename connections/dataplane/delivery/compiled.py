"""A destination's stored filters and mappings, compiled for the rules engine
(``connections.rules``): what delivery, the test panel and the Event Tester run.
Delivery keeps each destination compiled per worker process (``plans_of``) while
its row, mappings and filters are unchanged."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from connections import catalog
from connections.catalog import DestinationDefinition
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


@dataclass
class Plan:
    """A destination compiled once for a batch: filters, mapping rules, actions."""

    destination: Destination
    definition: DestinationDefinition | None
    filters: CompiledFilters
    rules: list[MappingRule]
    subscription_ids: dict[str, int]

    @classmethod
    def of(cls, destination: Destination) -> Plan:
        rules = rules_of(destination)
        return cls(
            destination=destination,
            definition=catalog.destination(destination.definition),
            filters=filters_of(destination),
            rules=rules,
            subscription_ids=dict(destination.subscriptions.values_list("key_id", "id")),
        )


# Compiled plans per worker process, reused while nothing about the destination,
# its mappings or its filters changed (the signature covers every column of them).
_PLANS: dict[int, tuple[str, Plan]] = {}
_PLANS_MAX = 1000

SIGNATURES = """
SELECT d.id, md5(row_to_json(d)::text
    || coalesce((SELECT string_agg(row_to_json(s)::text, ',' ORDER BY s.id)
                 FROM connections_subscription s WHERE s.destination_id = d.id), '')
    || '#'
    || coalesce((SELECT string_agg(row_to_json(f)::text, ',' ORDER BY f.id)
                 FROM connections_destinationfilter f WHERE f.destination_id = d.id), ''))
FROM connections_destination d
WHERE d.source_id = %s AND d.enabled
ORDER BY d.id
"""


def plans_of(source_id: int) -> list[Plan]:
    """The source's enabled destinations, compiled (or reused from this process)."""
    with connection.cursor() as cursor:
        cursor.execute(SIGNATURES, [source_id])
        signatures = cursor.fetchall()
    stale = [pk for pk, signature in signatures if _PLANS.get(pk, ("",))[0] != signature]
    if stale:
        if len(_PLANS) + len(stale) > _PLANS_MAX:
            _PLANS.clear()
        fresh = Destination.objects.in_bulk(stale)
        for pk, signature in signatures:
            if pk in fresh:
                _PLANS[pk] = (signature, Plan.of(fresh[pk]))
    return [_PLANS[pk][1] for pk, _ in signatures if pk in _PLANS]
