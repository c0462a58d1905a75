"""The source debugger: the latest events a source received, live (htmx polling)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from connections import selectors
from connections.models import Event, Source
from connections.selectors import EVENT_TYPES
from connections.views.sources import source_or_404
from switchyard.access import Principal
from workspace.selectors import workspace_for

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


@login_required
def debugger(request: HttpRequest, slug: str, source: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    found = source_or_404(principal, workspace, source)
    event_type, name = _filters(request)
    events = selectors.recent_events(found, event_type=event_type, name=name)
    context = {
        "workspace": workspace,
        "nav": "sources",
        "source": found,
        "rows": _rows(principal, found, events),
        "types": EVENT_TYPES,
        "event_type": event_type,
        "name": name,
    }
    return render(request, "connections/debugger.html", context)


@login_required
def debugger_events(request: HttpRequest, slug: str, source: str) -> HttpResponse:
    """Rows newer than ``after`` (the newest row the page shows), for htmx to prepend."""
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    found = source_or_404(principal, workspace, source)
    event_type, name = _filters(request)
    after = request.GET.get("after", "")
    events = selectors.recent_events(
        found, event_type=event_type, name=name, after_id=int(after) if after.isdigit() else None
    )
    context = {"rows": _rows(principal, found, events)}
    return render(request, "connections/_debugger_rows.html", context)
