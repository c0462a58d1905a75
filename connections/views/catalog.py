"""Connections > Catalog: browse source types and destination definitions.

The catalog is the same for every workspace; the workspace in the URL only
places the pages in its navigation (and must be visible to the user).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render

from connections import catalog
from connections.catalog.search import filter_destinations, filter_source_types
from connections.models import Source
from switchyard import access
from switchyard.errors import InvalidArgument
from switchyard.ui import UIRequest, workspace_view
from workspace.models import Workspace

TABS = ("destinations", "sources")


@workspace_view()
def catalog_index(request: UIRequest, workspace: Workspace) -> HttpResponse:
    tab = request.GET.get("tab", "destinations")
    if tab not in TABS:
        tab = "destinations"
    search = request.GET.get("q", "").strip()
    category = request.GET.get("category", "").strip()
    categories = (
        catalog.DESTINATION_CATEGORIES if tab == "destinations" else catalog.SOURCE_CATEGORIES
    )
    error = ""
    try:
        if tab == "destinations":
            rows: list[object] = list(
                filter_destinations(catalog.destinations(), search=search, category=category)
            )
        else:
            rows = list(
                filter_source_types(catalog.source_types(), search=search, category=category)
            )
    except InvalidArgument as exc:
        error, rows, category = exc.message, [], ""
    context = {
        "workspace": workspace,
        "nav": "catalog",
        "tab": tab,
        "q": search,
        "category": category,
        "categories": categories,
        "rows": rows,
        "error": error,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, "connections/_catalog_results.html", context)
    return render(request, "connections/catalog.html", context)


@workspace_view()
def catalog_destination(request: UIRequest, workspace: Workspace, definition: str) -> HttpResponse:
    found = catalog.destination(definition)
    if found is None:
        raise Http404("destination not found in the catalog")
    sources = Source.objects.filter(workspace=workspace)
    context = {
        "workspace": workspace,
        "nav": "catalog",
        "definition": found,
        "presets": [(p, found.action(p.action)) for p in found.presets],
        # A destination connects to a source: those who may change one, or create
        # one first, may add it.
        "can_add": access.can_create(request.principal, "source", workspace)
        or access.restrict(sources, request.principal, "change").exists(),
    }
    return render(request, "connections/catalog_destination.html", context)


@workspace_view()
def catalog_source(request: UIRequest, workspace: Workspace, source_type: str) -> HttpResponse:
    found = catalog.source_type(source_type)
    if found is None:
        raise Http404("source type not found in the catalog")
    context = {
        "workspace": workspace,
        "nav": "catalog",
        "source_type": found,
        "can_add": access.can_create(request.principal, "source", workspace),
    }
    return render(request, "connections/catalog_source.html", context)
