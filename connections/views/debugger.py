"""The source debugger: the latest events a source received, live (htmx polling),
filtered by type, by part of the event name or by text anywhere in the payload."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from connections import selectors
from connections.models import Destination, Event, Source
from connections.selectors import EVENT_TYPES
from connections.views.lookups import SOURCE
from switchyard.access import Principal
from switchyard.masking import Mask
from switchyard.ui import UIRequest, workspace_view
from workspace.models import Workspace

# Fields worth a glance in the "pretty" view; the raw view shows everything.
SUMMARY_FIELDS = ("userId", "anonymousId", "event", "name", "groupId", "previousId", "timestamp")
FILTER_MAX = 256


def as_json_text(value: Any) -> tuple[str, bool]:
    """A payload value as the user sent it: strings as they are, everything else as
    JSON (``true``, ``null``, objects pretty-printed), never Python's repr.
    The flag says whether it spans lines (shown in a <pre>)."""
    if isinstance(value, str):
        return value, False
    if isinstance(value, dict | list) and value:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False), True
    return json.dumps(value, ensure_ascii=False), False


def _rows(
    principal: Principal, source: Source, events: list[Event], mask: Mask
) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        payload = selectors.visible_payload(principal, source, event.payload, mask)
        properties = payload.get("properties") or payload.get("traits") or {}
        rows.append(
            {
                "event": event,
                "summary": [
                    (k, *as_json_text(payload[k])) for k in SUMMARY_FIELDS if payload.get(k)
                ],
                # jsonb keeps no key order: sorted, like the raw view.
                "properties": [(k, *as_json_text(v)) for k, v in sorted(properties.items())]
                if isinstance(properties, dict)
                else [],
                "raw": json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False),
            }
        )
    return rows


class Filters(TypedDict):
    event_type: str
    name_contains: str
    search: str


def _filters(request: HttpRequest) -> Filters:
    event_type = request.GET.get("type", "")
    return {
        "event_type": event_type if event_type in EVENT_TYPES else "",
        "name_contains": request.GET.get("event", "").strip()[:FILTER_MAX],
        "search": request.GET.get("q", "").strip()[:FILTER_MAX],
    }


def _destinations(source: Source) -> list[Destination]:
    """Where a row's "Validate" can take its event: the source's destinations' testers."""
    return list(source.destinations.order_by("display_name", "id"))


@workspace_view(SOURCE)
def debugger(request: UIRequest, workspace: Workspace, source: Source) -> HttpResponse:
    filters = _filters(request)
    mask = selectors.payload_mask(request.principal, source)
    events = selectors.recent_events(source, **filters, mask=mask)
    context = {
        "workspace": workspace,
        "nav": "sources",
        "source": source,
        "rows": _rows(request.principal, source, events, mask),
        "destinations": _destinations(source),
        "types": EVENT_TYPES,
        "name": filters["name_contains"],
        "search": filters["search"],
        "event_type": filters["event_type"],
        "search_scope": selectors.SEARCH_SCOPE,
    }
    return render(request, "connections/debugger.html", context)


@workspace_view(SOURCE)
def debugger_events(request: UIRequest, workspace: Workspace, source: Source) -> HttpResponse:
    """Rows newer than ``after`` (the newest row the page shows), for htmx to prepend."""
    filters = _filters(request)
    after = request.GET.get("after", "")
    # str.isdigit() accepts "²", which int() refuses: only ASCII digits are an id.
    if after and not (after.isascii() and after.isdigit()):
        return HttpResponseBadRequest("after must be an event id")
    mask = selectors.payload_mask(request.principal, source)
    after_id = int(after) if after else None
    events = selectors.recent_events(source, **filters, after_id=after_id, mask=mask)
    context = {
        "workspace": workspace,
        "source": source,
        "rows": _rows(request.principal, source, events, mask),
        "destinations": _destinations(source) if events else [],
    }
    return render(request, "connections/_debugger_rows.html", context)
