"""The source debugger: the latest events a source received, live (htmx polling)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from connections import selectors
from connections.models import Event, Source
from connections.selectors import EVENT_TYPES
from connections.views.lookups import SOURCE
from switchyard.access import Principal
from switchyard.ui import UIRequest, workspace_view
from workspace.models import Workspace

# Fields worth a glance in the "pretty" view; the raw view shows everything.
SUMMARY_FIELDS = ("userId", "anonymousId", "event", "name", "groupId", "previousId", "timestamp")


def _rows(principal: Principal, source: Source, events: list[Event]) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        payload = selectors.visible_payload(principal, source, event.payload)
        rows.append(
            {
                "event": event,
                "summary": [(k, payload[k]) for k in SUMMARY_FIELDS if payload.get(k)],
                "properties": payload.get("properties") or payload.get("traits") or {},
                "raw": json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False),
            }
        )
    return rows


def _filters(request: HttpRequest) -> tuple[str, str]:
    event_type = request.GET.get("type", "")
    return (event_type if event_type in EVENT_TYPES else ""), request.GET.get("event", "")[:256]


@workspace_view(SOURCE)
def debugger(request: UIRequest, workspace: Workspace, source: Source) -> HttpResponse:
    event_type, name = _filters(request)
    events = selectors.recent_events(source, event_type=event_type, name=name)
    context = {
        "workspace": workspace,
        "nav": "sources",
        "source": source,
        "rows": _rows(request.principal, source, events),
        "types": EVENT_TYPES,
        "event_type": event_type,
        "name": name,
    }
    return render(request, "connections/debugger.html", context)


@workspace_view(SOURCE)
def debugger_events(request: UIRequest, workspace: Workspace, source: Source) -> HttpResponse:
    """Rows newer than ``after`` (the newest row the page shows), for htmx to prepend."""
    event_type, name = _filters(request)
    after = request.GET.get("after", "")
    # str.isdigit() accepts "²", which int() refuses: only ASCII digits are an id.
    if after and not (after.isascii() and after.isdigit()):
        return HttpResponseBadRequest("after must be an event id")
    events = selectors.recent_events(
        source, event_type=event_type, name=name, after_id=int(after) if after else None
    )
    context = {"rows": _rows(request.principal, source, events)}
    return render(request, "connections/_debugger_rows.html", context)
