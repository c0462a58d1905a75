"""Privacy > Controls: per source, block the Inventory's Red and/or Yellow fields at
the Tracking API, with what was blocked (and what suppression dropped) in 24 hours.

Workspace Owners only. Each source's row is a form: htmx swaps the row in place;
without JavaScript the form posts and redirects back.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from connections.models import Source
from privacy.selectors import controls as selectors
from privacy.services import controls as service
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, get_object, workspace_view
from workspace.models import Workspace

OWNERS = "Only Workspace Owners can open the Privacy Portal."
NAV = "privacy-controls"


@workspace_view(action="administer", refusal=OWNERS)
@require_GET
def controls(request: UIRequest, workspace: Workspace) -> HttpResponse:
    context = {"workspace": workspace, "nav": NAV, "rows": selectors.controls_rows(workspace)}
    return render(request, "privacy/controls.html", context)


@workspace_view(action="administer", refusal=OWNERS)
@require_POST
def update(request: UIRequest, workspace: Workspace, source_slug: str) -> HttpResponse:
    source = get_object(
        request.principal,
        Source.objects.filter(workspace=workspace, slug=source_slug).select_related("workspace"),
        refusal=OWNERS,
    )
    changes = {f: request.POST.get(f) == "on" for f in service.FIELDS}
    error = notice = ""
    try:
        service.do_update_source_controls(
            principal=request.principal, source=source, changes=changes
        )
        notice = f"Saved the controls of {source.display_name}."
    except SwitchyardError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect("privacy:controls", slug=workspace.slug)
    (row,) = selectors.controls_rows(workspace, source=source)
    context = {"workspace": workspace, "row": row, "error": error, "notice": notice}
    return render(request, "privacy/_controls_row.html", context)
