"""Privacy > Inventory: the classified fields, filtered by classification, source
or environment label; a field's details (counts per source, events, connected
destinations, who sees its values); reclassify, remove, and the CSV of the whole
Inventory. Workspace Owners only."""

from __future__ import annotations

from django.contrib import messages
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connections.models import Source
from privacy.forms import ClassifyForm, ReclassifyForm
from privacy.models import InventoryField
from privacy.selectors import fields as selectors
from privacy.services import fields as service
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, get_object, workspace_view
from workspace.models import Workspace

OWNERS = "Only Workspace Owners can open the Privacy Portal."


def _field_in(workspace: Workspace, key_id: str) -> models.QuerySet[InventoryField]:
    return InventoryField.objects.filter(workspace=workspace, key_id=key_id).select_related(
        "workspace", "classified_by"
    )


def _field(request: UIRequest, workspace: Workspace, key_id: str) -> InventoryField:
    return get_object(request.principal, _field_in(workspace, key_id), "administer", OWNERS)


def _filters(request: UIRequest) -> dict[str, str]:
    classification = request.GET.get("classification", "").upper()
    return {
        "classification": classification if classification in service.CHOICES else "",
        "source": request.GET.get("source", ""),
        "environment": request.GET.get("environment", ""),
    }


def _render_list(
    request: UIRequest, workspace: Workspace, form: ClassifyForm | None = None, status: int = 200
) -> HttpResponse:
    filters = _filters(request)
    rows = selectors.inventory_queryset(workspace, request.principal, **filters)
    context = {
        "workspace": workspace,
        "nav": "privacy-inventory",
        "fields": rows.order_by("path", "pk"),
        "filters": filters,
        "filtered": any(filters.values()),
        "classifications": service.CHOICES,
        "sources": Source.objects.filter(workspace=workspace).order_by("slug"),
        "environments": selectors.environments(workspace),
        "form": form or ClassifyForm(),
    }
    return render(request, "privacy/inventory.html", context, status=status)


@workspace_view(action="administer", refusal=OWNERS)
@require_http_methods(["GET", "POST"])
def inventory(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """The list; POST adds a path typed by hand (one detection has not seen yet)."""
    if request.method != "POST":
        return _render_list(request, workspace)
    form = ClassifyForm(request.POST)
    if not form.is_valid():
        return _render_list(request, workspace, form, status=400)
    try:
        field = service.do_add_inventory_field(
            principal=request.principal, workspace=workspace, **form.cleaned_data
        )
    except SwitchyardError as exc:
        add_service_error(form, exc)
        return _render_list(request, workspace, form, status=exc.http_status)
    messages.success(request, f"Added {field.path} to the Inventory.")
    return redirect("privacy:inventory-field", slug=workspace.slug, key_id=field.key_id)


@workspace_view(action="administer", refusal=OWNERS)
@require_http_methods(["GET", "POST"])
def detail(request: UIRequest, workspace: Workspace, key_id: str) -> HttpResponse:
    field = _field(request, workspace, key_id)
    form = ReclassifyForm(initial={"classification": field.classification})
    status = 200
    if request.method == "POST":
        form = ReclassifyForm(request.POST)
        if form.is_valid():
            try:
                field = service.do_update_inventory_field(
                    principal=request.principal, field=field, changes=form.cleaned_data
                )
            except SwitchyardError as exc:
                add_service_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, f"Classified {field.path} as {field.classification}.")
                return redirect("privacy:inventory-field", slug=workspace.slug, key_id=key_id)
        else:
            status = 400
    context = {
        "workspace": workspace,
        "nav": "privacy-inventory",
        "field": field,
        "details": selectors.details(field, request.principal),
        "form": form,
    }
    return render(request, "privacy/inventory_field.html", context, status=status)


@workspace_view(action="administer", refusal=OWNERS)
@require_POST
def remove(request: UIRequest, workspace: Workspace, key_id: str) -> HttpResponse:
    field = _field(request, workspace, key_id)
    service.do_remove_inventory_field(principal=request.principal, field=field)
    messages.success(request, f"Removed {field.path} from the Inventory.")
    return redirect("privacy:inventory", slug=workspace.slug)


@workspace_view(action="administer", refusal=OWNERS)
@require_GET
def export(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """Download CSV: the whole Inventory, whatever the page's filters."""
    body = selectors.inventory_csv(workspace, request.principal)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = f"{workspace.slug}-privacy-inventory.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
