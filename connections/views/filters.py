"""The destination filter editor (title, if, actions) and the enable/delete
buttons of the Filters tab."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from connections.forms import FilterForm, filter_error_target, sample_event_json
from connections.models import Destination
from connections.rules import filtering, triggers
from connections.services import filters as service
from connections.views.destinations import (
    base_context,
    delete_row,
    destination_url,
    summarize_actions,
)
from connections.views.lookups import DESTINATION
from connections.views.mappings import condition_preview
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, get_object, refuse, workspace_view
from workspace.models import Workspace


@workspace_view(DESTINATION, post="change")
def filter_editor(
    request: UIRequest,
    workspace: Workspace,
    destination: Destination,
    filter: str | None = None,
) -> HttpResponse:
    existing = (
        get_object(request.principal, destination.filters.filter(key_id=filter)) if filter else None
    )
    if request.method == "POST":
        form = FilterForm(request.POST)
    else:
        initial, rows = FilterForm.initial_from(existing) if existing else (None, [])
        form = FilterForm(initial=initial, conditions=rows)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions, where = form.actions()
        try:
            if existing is None:
                saved = service.do_create_filter(
                    principal=request.principal,
                    destination=destination,
                    title=data["title"],
                    description=data["description"],
                    if_=data["if_value"],
                    actions=actions,
                    enabled=data["enabled"],
                )
            else:
                saved = service.do_update_filter(
                    principal=request.principal,
                    row=existing,
                    changes={
                        "title": data["title"],
                        "description": data["description"],
                        "if": data["if_value"],
                        "actions": actions,
                        "enabled": data["enabled"],
                    },
                )
        except SwitchyardError as exc:
            refuse(exc)
            if exc.field == "actions" and not actions:
                form.add_error(
                    None, "Choose at least one action: drop, sample, drop or allow properties."
                )
            else:
                add_service_error(form, exc, lambda field: filter_error_target(field, where))
            if existing is not None:
                existing.refresh_from_db()
        else:
            verb = "Created" if existing is None else "Saved"
            messages.success(request, f"{verb} filter {saved.title}.")
            return redirect(destination_url(destination, "filters"))
    count = destination.filters.count()
    context = base_context(workspace, destination, request.principal)
    context.update(
        form=form,
        filter=existing,
        full=existing is None and count >= filtering.FILTERS_PER_DESTINATION,
        filters_max=filtering.FILTERS_PER_DESTINATION,
        sample_event=sample_event_json(),
        fields=triggers.FIELDS,
        operators=triggers.OPERATORS,
    )
    return render(request, "connections/filter.html", context, status=400 if form.errors else 200)


@workspace_view(DESTINATION)
@require_POST
def filter_preview(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    """The FQL the builder rows make (or the raw FQL's check), before saving."""
    return condition_preview(request, raw_field="condition", field="if")


@workspace_view(DESTINATION, post="change")
@require_POST
def filter_toggle(
    request: UIRequest, workspace: Workspace, destination: Destination, filter: str
) -> HttpResponse:
    row = get_object(request.principal, destination.filters.filter(key_id=filter))
    error = ""
    try:
        row = service.do_update_filter(
            principal=request.principal, row=row, changes={"enabled": not row.enabled}
        )
    except SwitchyardError as exc:
        refuse(exc)
        row.refresh_from_db()
        error = exc.message
    if request.htmx:
        context: dict[str, Any] = {
            "f": row,
            "summary": summarize_actions(row.actions),
            "workspace": workspace,
            "source": destination.source,
            "destination": destination,
            "can_change": True,
            "row_error": error,
        }
        return render(request, "connections/_filter_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{'Enabled' if row.enabled else 'Disabled'} filter {row.title}.")
    return redirect(destination_url(destination, "filters"))


@workspace_view(DESTINATION, post="change")
@require_POST
def filter_delete(
    request: UIRequest, workspace: Workspace, destination: Destination, filter: str
) -> HttpResponse:
    row = get_object(request.principal, destination.filters.filter(key_id=filter))
    return delete_row(
        request,
        destination,
        partial(service.do_delete_filter, principal=request.principal, row=row),
        what=f"filter {row.title}",
        tab="filters",
    )
