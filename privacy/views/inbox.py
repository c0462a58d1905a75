"""Privacy > Inbox: what the sources sent in the last 7 days, with the
matchers' recommendations; an owner picks a classification and adds the field
to the Inventory. Workspace Owners only."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from connections.models import Source
from privacy.forms import ClassifyForm
from privacy.selectors import fields as selectors
from privacy.services import fields as service
from switchyard.api.pagination import make_token, read_token
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, workspace_view
from workspace.models import Workspace

OWNERS = "Only Workspace Owners can open the Privacy Portal."
PAGE = 100
SCOPE = "privacy-inbox-page"


def _context(request: UIRequest, workspace: Workspace, **extra: object) -> dict[str, object]:
    source = request.GET.get("source") or ""
    after = None
    if token := request.GET.get("page"):
        try:
            path, source_id = read_token(SCOPE, token, 2)
            after = (str(path), int(source_id))
        except (SwitchyardError, TypeError, ValueError):
            after = None  # a stale or edited link: the first page
    rows = selectors.inbox_rows(
        workspace, request.principal, after=after, limit=PAGE + 1, source=source
    )
    next_page = ""
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        next_page = make_token(SCOPE, [rows[-1].path, rows[-1].source_id])
    return {
        "workspace": workspace,
        "nav": "privacy-inbox",
        "rows": rows,
        "next_page": next_page,
        "source_filter": source,
        "sources": Source.objects.filter(workspace=workspace).order_by("slug"),
        "window_days": selectors.WINDOW.days,
        **extra,
    }


@workspace_view(action="administer", refusal=OWNERS)
@require_GET
def inbox(request: UIRequest, workspace: Workspace) -> HttpResponse:
    return render(request, "privacy/inbox.html", _context(request, workspace))


@workspace_view(action="administer", refusal=OWNERS)
@require_GET
def field(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """One Inbox row opened (``?path=...&source=<slug>``): the events that carried the
    field, the sources sending it, the matcher that flagged it, an example snippet."""
    path, source = request.GET.get("path", ""), request.GET.get("source", "")
    detail = None
    if path and source:
        detail = selectors.inbox_detail(workspace, request.principal, path=path, source=source)
    if detail is None:
        raise Http404("No such field in the Inbox.")
    context = {
        "workspace": workspace,
        "nav": "privacy-inbox",
        "detail": detail,
        "row": detail.row,
        "window_days": selectors.WINDOW.days,
    }
    return render(request, "privacy/inbox_field.html", context)


@workspace_view(action="administer", refusal=OWNERS)
@require_POST
def add(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """Add to Inventory with the chosen classification; a path already there is
    reclassified (the Inbox shows the Inventory's classification in its dropdown)."""
    form = ClassifyForm(request.POST)
    error, notice = "", ""
    if not form.is_valid():
        error = "Choose a classification for a field path."
    else:
        path, classification = form.cleaned_data["path"], form.cleaned_data["classification"]
        existing = selectors.inventory_by_path(workspace, [path]).get(path)
        try:
            if existing is None:
                service.do_add_inventory_field(
                    principal=request.principal,
                    workspace=workspace,
                    path=path,
                    classification=classification,
                )
                notice = f"Added {path} to the Inventory."
            else:
                service.do_update_inventory_field(
                    principal=request.principal,
                    field=existing,
                    changes={"classification": classification},
                )
                notice = f"Classified {path} in the Inventory."
        except SwitchyardError as exc:
            error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect("privacy:inbox", slug=workspace.slug)
    context = _context(request, workspace, error=error, notice=notice)
    return render(request, "privacy/_inbox_table.html", context)
