"""The "test on a sample event" panel and API: a destination's real filters and
mappings run on an event the user gives, and nothing is sent."""

from __future__ import annotations

from typing import Any

from connections.dataplane.delivery.compiled import filters_of, rules_of
from connections.models import Destination
from connections.rules import route
from switchyard.errors import InvalidArgument


def preview(destination: Destination, event: object) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidArgument("the sample event must be a JSON object", field="event")
    routed = route(filters_of(destination), rules_of(destination), event, explain=True)
    if routed.event is None:
        summary = f"Dropped by filter {routed.dropped_by!r} ({routed.reason})."
    elif not routed.sent:
        summary = "No enabled mapping matches this event: it would not be sent."
    else:
        count = len(routed.sent)
        # A dry run: nothing leaves this panel, so say what delivery would do.
        summary = f"{count} mapping{'' if count == 1 else 's'} would send this event."
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
