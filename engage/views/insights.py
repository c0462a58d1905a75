"""A space's Profiles Insights: identity resolution's errors and violations, its
success logs, and the audit trail of the space's settings, for the last 30 days
(at most 500 shown), searchable."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engage import explorer_selectors as selectors
from engage.models import Space
from engage.views.space_pages import SPACE
from switchyard import masking
from switchyard.ui import UIRequest, workspace_view
from workspace.models import Workspace

TABS = ("errors", "success", "audit")
KINDS = ("ERROR", "VIOLATION")


@workspace_view(SPACE)
@require_GET
def insights(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    tab = request.GET.get("tab", "errors")
    tab = tab if tab in TABS else "errors"
    search = request.GET.get("q", "")[:1024]
    mask = masking.mask_for(request.principal, workspace.pk)
    window = request.GET.get("window", "30d")
    window = window if window in selectors.INSIGHTS_WINDOWS else "30d"
    kind = request.GET.get("kind", "") if tab == "errors" else ""
    kind = kind if kind in KINDS else ""
    if tab == "audit":
        rows: list[Any] = selectors.audit_trail(space, search=search, mask=mask, window=window)
    else:
        rows = selectors.insights(
            space, tab=tab, search=search, mask=mask, window=window, kind=kind
        )
    context = {
        "workspace": workspace,
        "space": space,
        "nav": "engage-spaces",
        "tab": "insights",
        "insight_tab": tab,
        "query": search,
        "window": window,
        "windows": list(selectors.INSIGHTS_WINDOWS),
        "kind": kind,
        "rows": rows,
        "limit": selectors.INSIGHTS_LIMIT,
        "at_limit": len(rows) >= selectors.INSIGHTS_LIMIT,
    }
    return render(request, "engage/insights.html", context)
