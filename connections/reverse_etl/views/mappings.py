"""Reverse ETL mappings: the new-mapping picker (a destination of the workspace,
then one of its catalog actions), the settings form (field rows, sync behavior,
enabled) for create and edit, Duplicate and Delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from connections import catalog
from connections.catalog import ActionDef
from connections.models import Destination
from connections.reverse_etl.forms.mappings import MappingForm, MappingTargetForm
from connections.reverse_etl.forms.schedules import ScheduleForm
from connections.reverse_etl.models import RetlMapping, RetlModel
from connections.reverse_etl.services import mappings as service
from connections.reverse_etl.services import models as model_service
from connections.reverse_etl.services import schedules as schedule_service
from connections.reverse_etl.views.lookups import (
    MANAGE_REFUSAL,
    MAPPING,
    MODEL,
    NAV,
    attempt,
)
from connections.reverse_etl.views.syncs import action_label
from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, refuse, workspace_view
from workspace.models import Workspace


def _destinations(request: UIRequest, workspace: Workspace) -> QuerySet[Destination]:
    return (
        access.restrict(
            Destination.objects.filter(source__workspace=workspace), request.principal, "view"
        )
        .select_related("source")
        .order_by("display_name", "pk")
    )


def _actions(destination: Destination | None) -> tuple[ActionDef, ...]:
    definition = catalog.destination(destination.definition) if destination else None
    return definition.actions if definition else ()


def model_columns(request: UIRequest, model: RetlModel) -> list[str]:
    """The model's columns for the column pickers (a one-row preview); none when the
    warehouse cannot answer now: the rows still take a typed column name."""
    try:
        preview = model_service.preview_model(principal=request.principal, model=model, limit=1)
    except SwitchyardError:
        return []
    return list(preview.columns)


@workspace_view(MODEL, action="change")
@require_http_methods(["GET", "POST"])
def mapping_add(request: UIRequest, workspace: Workspace, model: RetlModel) -> HttpResponse:
    """GET ``?destination=&action=`` picks the target; then the settings form, whose
    POST creates the mapping."""
    data = request.POST if request.method == "POST" else request.GET
    destinations = list(_destinations(request, workspace))
    destination = next((d for d in destinations if d.key_id == data.get("destination")), None)
    actions = _actions(destination)
    action = next((a for a in actions if a.key == data.get("action")), None)
    picker = MappingTargetForm(
        initial={"destination": data.get("destination", ""), "action": data.get("action", "")},
        destinations=[
            (d.key_id, f"{d.display_name} ({d.source.display_name})") for d in destinations
        ],
        actions=[(a.key, a.name) for a in actions],
    )
    form = None
    if action is not None and destination is not None:
        form = MappingForm(request.POST or None, action=action)
        if request.method == "POST" and form.is_valid():
            try:
                mapping = service.do_create_mapping(
                    principal=request.principal,
                    model=model,
                    destination=destination,
                    action=action.key,
                    display_name=form.cleaned_data["display_name"],
                    # A row left "not mapped" drops the action's default (null).
                    field_mappings=dict.fromkeys(f.key for f in action.fields)
                    | form.cleaned_data["field_mappings"],
                    record_selection=form.cleaned_data["record_selection"],
                    enabled=form.cleaned_data["enabled"],
                )
            except SwitchyardError as exc:
                refuse(exc)
                add_service_error(form, exc)
            else:
                messages.success(request, f"Created mapping {mapping.display_name}.")
                return redirect("reverse_etl:mapping", slug=workspace.slug, mapping=mapping.key_id)
    picker_error = ""
    if request.method == "POST" and form is None:
        picker_error = "Choose a destination and one of its actions."
    context = {
        "workspace": workspace,
        "nav": NAV,
        "model": model,
        "picker": picker,
        "picker_error": picker_error,
        "destination": destination,
        "action": action,
        "form": form,
        "columns": model_columns(request, model) if form is not None else [],
    }
    failed = picker_error or (form is not None and form.errors)
    return render(request, "reverse_etl/mapping_add.html", context, status=400 if failed else 200)


def _initial(mapping: RetlMapping) -> dict[str, Any]:
    return {
        "display_name": mapping.display_name,
        "record_selection": mapping.record_selection,
        "enabled": mapping.enabled,
    }


@workspace_view(MAPPING)
@require_http_methods(["GET", "POST"])
def mapping_detail(request: UIRequest, workspace: Workspace, mapping: RetlMapping) -> HttpResponse:
    """The mapping's settings; POST ``intent``: ``save``, ``duplicate``, ``delete``."""
    can_change = access.can(request.principal, "change", mapping)
    intent = request.POST.get("intent", "save") if request.method == "POST" else ""
    if intent and not can_change:
        raise PermissionDenied(MANAGE_REFUSAL)
    definition = catalog.destination(mapping.destination.definition)
    action = definition.action(mapping.action) if definition else None
    if intent == "delete":
        if attempt(
            request,
            lambda: service.do_delete_mapping(principal=request.principal, mapping=mapping),
            f"Deleted mapping {mapping.display_name} and its sync history.",
        ):
            return redirect("reverse_etl:model", slug=workspace.slug, model=mapping.model.slug)
        return redirect("reverse_etl:mapping", slug=workspace.slug, mapping=mapping.key_id)
    if intent == "duplicate":
        copies: list[RetlMapping] = []
        if attempt(
            request,
            lambda: copies.append(
                service.do_duplicate_mapping(principal=request.principal, mapping=mapping)
            ),
            "Duplicated the mapping; the copy is disabled until you enable it.",
        ):
            return redirect("reverse_etl:mapping", slug=workspace.slug, mapping=copies[0].key_id)
        return redirect("reverse_etl:mapping", slug=workspace.slug, mapping=mapping.key_id)
    form = (
        MappingForm(
            request.POST if intent == "save" else None,
            action=action,
            initial_mappings=mapping.field_mappings,
            initial=_initial(mapping),
        )
        if action is not None
        else None
    )
    if intent == "save" and form is not None and form.is_valid():
        try:
            service.do_update_mapping(
                principal=request.principal,
                mapping=mapping,
                changes={
                    "display_name": form.cleaned_data["display_name"] or mapping.display_name,
                    "field_mappings": form.cleaned_data["field_mappings"],
                    "record_selection": form.cleaned_data["record_selection"],
                    "enabled": form.cleaned_data["enabled"],
                },
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc)
        else:
            messages.success(request, "Mapping saved.")
            return redirect("reverse_etl:mapping", slug=workspace.slug, mapping=mapping.key_id)
    schedule = schedule_service.schedule_of(mapping)
    schedule_form = ScheduleForm(
        request.POST if intent == "schedule" else None,
        initial={
            "kind": schedule.kind,
            "interval": schedule.interval,
            "days": schedule.days,
            "times": ", ".join(schedule.times),
            "cron": schedule.cron,
            "timezone": schedule.timezone,
        },
    )
    if intent == "schedule" and schedule_form.is_valid():
        try:
            schedule_service.do_update_schedule(
                principal=request.principal, mapping=mapping, changes=schedule_form.changes()
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(schedule_form, exc)
        else:
            messages.success(request, "Schedule saved.")
            return redirect("reverse_etl:mapping", slug=workspace.slug, mapping=mapping.key_id)
    context = {
        "workspace": workspace,
        "nav": NAV,
        "mapping": mapping,
        "schedule": schedule,
        "schedule_form": schedule_form,
        "action_name": action_label(mapping),
        "form": form,
        "columns": model_columns(request, mapping.model) if can_change and form else [],
        "can_change": can_change,
    }
    failed = (form is not None and form.errors) or schedule_form.errors
    status = 400 if failed else 200
    return render(request, "reverse_etl/mapping.html", context, status=status)
