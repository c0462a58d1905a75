"""Settings > Audit Trail: filter, page through (htmx "load more") and export CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render

from switchyard.api.pagination import paginate
from switchyard.errors import SwitchyardError
from workspace.api.serializers import actor_of
from workspace.filtersets import AuditEntryFilterSet
from workspace.models import AuditEntry, Workspace
from workspace.selectors import audit_entries_for
from workspace.views.base import HtmxHttpRequest, administered_workspace

PAGE_SIZE = 50
CSV_COLUMNS = ("time", "action", "resource_type", "resource_name", "actor", "before", "after")


def _trail(request: HttpRequest, slug: str) -> tuple[Workspace, AuditEntryFilterSet]:
    _principal, workspace = administered_workspace(
        request, slug, "Only Workspace Owners can read the audit trail."
    )
    entries = audit_entries_for(workspace).order_by("-time", "-id")
    return workspace, AuditEntryFilterSet(request.GET, queryset=entries)


def _actor_label(entry: AuditEntry) -> str:
    actor = actor_of(entry)
    if actor["type"] == "token":
        return f"{actor['user']} (token {actor['token']}…)"
    return actor["user"] or "system"


@login_required
def audit_trail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    workspace, filters = _trail(request, slug)
    context: dict[str, Any] = {"workspace": workspace, "filters": filters, "nav": "audit"}
    if filters.is_valid():
        params = {"page_size": str(PAGE_SIZE), "page_token": request.GET.get("page_token", "")}
        try:
            rows, next_token = paginate(
                filters.qs, params, scope=f"ui-audit:{workspace.pk}", ordering=("-time", "-pk")
            )
        except SwitchyardError as exc:
            filters.form.add_error(None, exc.message)
            rows, next_token = [], ""
        query = request.GET.copy()
        query["page_token"] = next_token
        context |= {"rows": rows, "next_query": query.urlencode() if next_token else ""}
    # htmx's "Load more" wants only the next rows; a plain GET gets the whole page.
    template = "workspace/_audit_rows.html" if request.htmx else "workspace/audit.html"
    return render(request, template, context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def audit_trail_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    workspace, filters = _trail(request, slug)
    if not filters.is_valid():
        return HttpResponse(f"invalid filter: {filters.errors.as_text()}", status=400)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(CSV_COLUMNS)
        for entry in filters.qs.iterator(chunk_size=2000):
            yield writer.writerow(
                (
                    entry.time.isoformat().replace("+00:00", "Z"),
                    entry.action,
                    entry.resource_type,
                    entry.resource_name,
                    _actor_label(entry),
                    json.dumps(entry.before) if entry.before is not None else "",
                    json.dumps(entry.after) if entry.after is not None else "",
                )
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{workspace.slug}-audit-trail.csv"'
    return response
