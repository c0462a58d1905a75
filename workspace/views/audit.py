"""Settings > Audit Trail: filter, page through (htmx "load more") and export CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render

from switchyard import masking
from switchyard.api.pagination import paginate
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, workspace_view
from workspace import selectors
from workspace.filtersets import AuditEntryFilterSet
from workspace.models import AuditEntry, Workspace
from workspace.selectors import audit_entries_for

PAGE_SIZE = 50
CSV_COLUMNS = ("time", "action", "resource_type", "resource_name", "actor", "before", "after")

owners_only = workspace_view(
    action="administer", refusal="Only Workspace Owners can read the audit trail."
)


def _filters(request: HttpRequest, workspace: Workspace) -> AuditEntryFilterSet:
    entries = audit_entries_for(workspace).order_by("-time", "-id")
    return AuditEntryFilterSet(request.GET, queryset=entries)


def _actor_label(entry: AuditEntry) -> str:
    actor = selectors.actor_of(entry)
    if actor["type"] == "token":
        return f"{actor['user']} (token {actor['token']}…)"
    return actor["user"] or "system"


@owners_only
def audit_trail(request: UIRequest, workspace: Workspace) -> HttpResponse:
    filters = _filters(request, workspace)
    context: dict[str, Any] = {
        "workspace": workspace,
        "filters": filters,
        "nav": "audit",
        # Filters match exactly (as the API's do): offer the values this trail holds.
        "pick_lists": selectors.audit_filter_choices(workspace),
    }
    if filters.is_valid():
        params = {"page_size": str(PAGE_SIZE), "page_token": request.GET.get("page_token", "")}
        try:
            rows, next_token = paginate(
                filters.qs, params, scope=f"ui-audit:{workspace.pk}", ordering=("-time", "-pk")
            )
        except SwitchyardError as exc:
            add_service_error(filters.form, exc)
            rows, next_token = [], ""
        _mask_diffs(rows, masking.mask_for(request.principal, workspace.pk))
        query = request.GET.copy()
        query["page_token"] = next_token
        context |= {"rows": rows, "next_query": query.urlencode() if next_token else ""}
    # htmx's "Load more" wants only the next rows; a plain GET gets the whole page.
    template = "workspace/_audit_rows.html" if request.htmx else "workspace/audit.html"
    return render(request, template, context)


def _mask_diffs(entries: Iterable[AuditEntry], mask: masking.Mask) -> None:
    """A diff can hold event data (a sample event): shown as the reader may see it
    (on the unsaved rows being rendered)."""
    if mask.active:
        for entry in entries:
            entry.before = mask.json(entry.before)
            entry.after = mask.json(entry.after)


class _Echo:
    def write(self, value: str) -> str:
        return value


@owners_only
def audit_trail_csv(request: UIRequest, workspace: Workspace) -> HttpResponseBase:
    filters = _filters(request, workspace)
    if not filters.is_valid():
        return HttpResponse(f"invalid filter: {filters.errors.as_text()}", status=400)

    mask = masking.mask_for(request.principal, workspace.pk)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(CSV_COLUMNS)
        for entry in filters.qs.iterator(chunk_size=2000):
            _mask_diffs((entry,), mask)
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
