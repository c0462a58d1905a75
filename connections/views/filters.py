"""The destination filter editor (title, if, actions) and the enable/delete
buttons of the Filters tab."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from connections import filtering
from connections.destination_forms import FilterForm, filter_error_target, sample_event_json
from connections.models import Destination, DestinationFilter
from connections.services import filters as service
from connections.views.destinations import (
    base_context,
    delete_row,
    destination_or_404,
    destination_url,
    refuse,
    require_change,
    summarize_actions,
)
from switchyard.access import Principal
from switchyard.errors import SwitchyardError
from workspace.selectors import workspace_for
from workspace.views.base import HtmxHttpRequest


def _filter_or_404(destination: Destination, key_id: str) -> DestinationFilter:
    found = destination.filters.filter(key_id=key_id).first()
    if found is None:
        raise Http404("filter not found")
    return found


@login_required
def filter_editor(
    request: HttpRequest, slug: str, source: str, destination: str, filter: str | None = None
) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    found = destination_or_404(principal, workspace, source, destination)
    existing = _filter_or_404(found, filter) if filter else None
    if request.method == "POST":
        require_change(principal, existing or found)
        form = FilterForm(request.POST)
    else:
        initial = FilterForm.initial_from(existing) if existing else None
        form = FilterForm(initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions, where = form.actions()
        try:
            if existing is None:
                saved = service.do_create_filter(
                    principal=principal,
                    destination=found,
                    title=data["title"],
                    description=data["description"],
                    if_=data["condition"],
                    actions=actions,
                    enabled=data["enabled"],
                )
            else:
                saved = service.do_update_filter(
                    principal=principal,
                    row=existing,
                    changes={
                        "title": data["title"],
                        "description": data["description"],
                        "if": data["condition"],
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
                form.add_error(filter_error_target(exc.field, where), exc.message)
            if existing is not None:
                existing.refresh_from_db()
        else:
            verb = "Created" if existing is None else "Saved"
            messages.success(request, f"{verb} filter {saved.title}.")
            return redirect(destination_url(found, "filters"))
    count = found.filters.count()
    context = base_context(workspace, found, principal)
    context.update(
        form=form,
        filter=existing,
        full=existing is None and count >= filtering.FILTERS_PER_DESTINATION,
        filters_max=filtering.FILTERS_PER_DESTINATION,
        sample_event=sample_event_json(),
    )
    return render(request, "connections/filter.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def filter_toggle(
    request: HtmxHttpRequest, slug: str, source: str, destination: str, filter: str
) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    found = destination_or_404(principal, workspace, source, destination)
    row = _filter_or_404(found, filter)
    require_change(principal, row)
    error = ""
    try:
        service.do_update_filter(principal=principal, row=row, changes={"enabled": not row.enabled})
    except SwitchyardError as exc:
        refuse(exc)
        row.refresh_from_db()
        error = exc.message
    if request.htmx:
        context: dict[str, Any] = {
            "f": row,
            "summary": summarize_actions(row.actions),
            "workspace": workspace,
            "source": found.source,
            "destination": found,
            "can_change": True,
            "row_error": error,
        }
        return render(request, "connections/_filter_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{'Enabled' if row.enabled else 'Disabled'} filter {row.title}.")
    return redirect(destination_url(found, "filters"))


@login_required
@require_POST
def filter_delete(
    request: HttpRequest, slug: str, source: str, destination: str, filter: str
) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    found = destination_or_404(principal, workspace, source, destination)
    row = _filter_or_404(found, filter)
    require_change(principal, row)
    return delete_row(
        request,
        found,
        partial(service.do_delete_filter, principal=principal, row=row),
        what=f"filter {row.title}",
        tab="filters",
    )
