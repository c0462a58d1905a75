"""The "test on a sample event" panel and API: a destination's real filters and
mappings run on an event the user gives, and nothing is sent."""

from __future__ import annotations

from typing import Any

from connections.models import Destination
from connections.rules import CompiledFilters, MappingRule, filter_spec_from_json, route
from connections.services import filters as filter_service
from switchyard.errors import InvalidArgument


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
    return CompiledFilters([filter_spec_from_json(filter_service.snapshot(r)) for r in rows])


def preview(destination: Destination, event: object) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidArgument("the sample event must be a JSON object", field="event")
    routed = route(filters_of(destination), rules_of(destination), event, explain=True)
    if routed.event is None:
        summary = f"Dropped by filter {routed.dropped_by!r} ({routed.reason})."
    elif not routed.sent:
        summary = "No enabled mapping matches this event: it would not be sent."
    else:
        summary = f"Sent by {len(routed.sent)} mapping(s)."
    return {
        "summary": summary,
        "reason": routed.reason,
        "dropped_by": routed.dropped_by,
        "filters": routed.filters,
        "event": routed.event,
        "mappings": [
            {
                "id": m.rule.key,
                "display_name": m.rule.name,
                "action": m.rule.action,
                "enabled": m.rule.enabled,
                "trigger": m.rule.trigger,
                "matched": m.matched,
                "payload": m.payload,
                "error": m.error,
            }
            for m in routed.mappings
        ],
    }
