"""A space's Profile explorer: search profiles by any identifier, the recent ones,
and a profile's identities, traits, events, merges and account links. Readers of
the space see it; PII is masked for those without PII Access."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engage import explorer_selectors as selectors
from engage.models import Space
from engage.views.space_pages import SPACE
from switchyard import masking
from switchyard.ui import UIRequest, workspace_view
from workspace.models import Workspace

NAV = "engage-spaces"


@workspace_view(SPACE)
@require_GET
def explorer(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    query = request.GET.get("q", "")[:1024]
    mask = masking.mask_for(request.principal, workspace.pk)
    context = {
        "workspace": workspace,
        "space": space,
        "nav": NAV,
        "tab": "profiles",
        "query": query,
        "searched": bool(query.strip()),
        "profiles": (
            selectors.search_profiles(space, query, mask)
            if query.strip()
            else selectors.recent_profiles(space)
        ),
    }
    template = "engage/_profile_rows.html" if request.htmx else "engage/profiles.html"
    return render(request, template, context)


@workspace_view(SPACE)
@require_GET
def profile(
    request: UIRequest, workspace: Workspace, space: Space, segment_id: str
) -> HttpResponse:
    found = selectors.profile_of(space, segment_id)
    if found is None:
        raise Http404("No such profile in this space.")
    mask = masking.mask_for(request.principal, workspace.pk)
    context = {
        "workspace": workspace,
        "space": space,
        "nav": NAV,
        "tab": "profiles",
        "view": selectors.profile_view(space, found, mask),
        "survivor": selectors.survivor_of(found) if found.canonical_id else None,
    }
    return render(request, "engage/profile.html", context)
