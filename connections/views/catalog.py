"""Connections > Catalog: browse source types and destination definitions.

The catalog is the same for every workspace; the workspace in the URL only
places the pages in its navigation (and must be visible to the user).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from connections import catalog
from connections.catalog.search import filter_destinations, filter_source_types
from connections.models import Source
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from workspace.selectors import workspace_for

TABS = ("destinations", "sources")


@login_required
def catalog_index(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = workspace_for(Principal(request.user), slug)
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


@login_required
def catalog_destination(request: HttpRequest, slug: str, definition: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
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
        "can_add": access.can_create(principal, "source", workspace)
        or access.restrict(sources, principal, "change").exists(),
    }
    return render(request, "connections/catalog_destination.html", context)


@login_required
def catalog_source(request: HttpRequest, slug: str, source_type: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    found = catalog.source_type(source_type)
    if found is None:
        raise Http404("source type not found in the catalog")
    context = {
        "workspace": workspace,
        "nav": "catalog",
        "source_type": found,
        "can_add": access.can_create(principal, "source", workspace),
    }
    return render(request, "connections/catalog_source.html", context)
