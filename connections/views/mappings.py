"""The mapping editor: action, name, enabled, the trigger (condition builder or
raw FQL) and the field mapping; plus the htmx helpers (the action's field list,
one field redrawn in another mode, the generated FQL) and the enable/delete
buttons of the Mappings tab."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from connections.catalog import ActionDef, DestinationDefinition
from connections.forms import (
    COMMON_PATHS,
    MAPPING_ERRORS,
    MappingForm,
    builder_initial,
    conditions_from_post,
    field_inputs,
    sample_event_json,
)
from connections.models import Destination, Subscription
from connections.rules import triggers
from connections.services import address_warnings
from connections.services import destinations as destination_service
from connections.services import subscriptions as service
from connections.services.expressions import clean_expression
from connections.views.destinations import (
    base_context,
    delete_row,
    destination_url,
    warn_refused_addresses,
)
from connections.views.lookups import DESTINATION
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, get_object, refuse, workspace_view
from workspace.models import Workspace


def _action(definition: DestinationDefinition, key: str | None) -> ActionDef:
    chosen = definition.action(key) if key else None
    if chosen is None:
        if not definition.actions:
            raise Http404(f"{definition.name} has no actions")
        chosen = definition.actions[0]
    return chosen


@workspace_view(DESTINATION, post="change")
def mapping_editor(
    request: UIRequest,
    workspace: Workspace,
    destination: Destination,
    subscription: str | None = None,
) -> HttpResponse:
    definition = destination_service.definition_of(destination)
    existing = (
        get_object(request.principal, destination.subscriptions.filter(key_id=subscription))
        if subscription
        else None
    )
    if request.method == "POST":
        action = _action(definition, request.POST.get("action"))
        form = MappingForm(request.POST, definition=definition, action=action)
    else:
        key = request.GET.get("action") or (existing.action if existing else None)
        action = _action(definition, key)
        trigger = existing.trigger if existing else action.default_trigger
        match, raw, rows = builder_initial(trigger)
        initial = dict(
            match=match,
            trigger=raw,
            name=existing.name if existing else action.name,
            action=action.key,
            enabled=existing.enabled if existing else False,
        )
        mapping = existing.mapping if existing and existing.action == action.key else None
        form = MappingForm(
            definition=definition, action=action, initial=initial, mapping=mapping, conditions=rows
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if existing is None:
                saved = service.do_create_subscription(
                    principal=request.principal,
                    destination=destination,
                    action=action.key,
                    name=data["name"],
                    trigger=data["trigger_value"],
                    mapping=data["mapping_value"],
                    enabled=data["enabled"],
                )
            else:
                saved = service.do_update_subscription(
                    principal=request.principal,
                    subscription=existing,
                    changes={
                        "name": data["name"],
                        "action": action.key,
                        "enabled": data["enabled"],
                        "trigger": data["trigger_value"],
                        "mapping": data["mapping_value"],
                    },
                )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc, MAPPING_ERRORS)
            if existing is not None:
                existing.refresh_from_db()
        else:
            verb = "Created" if existing is None else "Saved"
            messages.success(request, f"{verb} mapping {saved.name}.")
            warn_refused_addresses(request, address_warnings.for_subscription(saved))
            return redirect(destination_url(destination, "mappings"))
    count = destination.subscriptions.count()
    context = base_context(workspace, destination, request.principal)
    context.update(
        form=form,
        action=action,
        subscription=existing,
        common_paths=COMMON_PATHS,
        fields=triggers.FIELDS,
        operators=triggers.OPERATORS,
        full=existing is None and count >= service.SUBSCRIPTIONS_PER_DESTINATION_MAX,
        mappings_max=service.SUBSCRIPTIONS_PER_DESTINATION_MAX,
        sample_event=sample_event_json(),
    )
    return render(request, "connections/mapping.html", context, status=400 if form.errors else 200)


@workspace_view(DESTINATION)
@require_GET
def mapping_fields(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    """The field list of ``?action=`` with that action's defaults (htmx swaps it in)."""
    definition = destination_service.definition_of(destination)
    action = _action(definition, request.GET.get("action"))
    form = MappingForm(definition=definition, action=action, initial={"action": action.key})
    context = {"form": form, "action": action, "common_paths": COMMON_PATHS}
    context.update(_where(workspace, destination))
    return render(request, "connections/_mapping_fields.html", context)


@workspace_view(DESTINATION)
@require_GET
def mapping_field(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    """One field's row redrawn in the mode ``m_<field>`` picks, holding the value its
    inputs (drawn in mode ``rm_<field>``) hold when the new mode can show it."""
    definition = destination_service.definition_of(destination)
    action = _action(definition, request.GET.get("action"))
    spec = action.field(request.GET.get("field", ""))
    if spec is None:
        raise Http404("no such field")
    chosen, drawn = field_inputs.chosen_and_drawn(spec, request.GET)
    try:
        value = field_inputs.parse(spec, request.GET, drawn)
    except field_inputs.FieldInputError as exc:
        row = field_inputs.input_for(spec, None, chosen)
        row.errors = [f"{spec.label}: {exc.message}"]
    else:
        row = field_inputs.input_for(spec, value, chosen)
    context = {"row": row, "action": action, **_where(workspace, destination)}
    return render(request, "connections/_mapping_field.html", context)


def _where(workspace: Workspace, destination: Destination) -> dict[str, Any]:
    return {"workspace": workspace, "source": destination.source, "destination": destination}


@workspace_view(DESTINATION)
@require_POST
def trigger_preview(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    """The FQL the builder rows make (or the raw FQL's check), before saving."""
    return condition_preview(request, raw_field="trigger", field="trigger")


def condition_preview(request: UIRequest, *, raw_field: str, field: str) -> HttpResponse:
    """The condition builder's preview, for the trigger and the filter's "If" alike."""
    raw = request.POST.get(raw_field, "").strip()
    context: dict[str, Any] = {"raw": bool(raw)}
    try:
        expression = raw or triggers.to_fql(
            conditions_from_post(request.POST), request.POST.get("match", "all")
        )
        context["fql"] = clean_expression(expression, field=field, allow_all=field == "if")
    except triggers.TriggerError as exc:
        context["error"] = exc.message
    except SwitchyardError as exc:
        context["error"] = exc.message
    return render(request, "connections/_trigger_preview.html", context)


def _after(request: UIRequest, found: Destination, template: str, **extra: Any) -> HttpResponse:
    if request.htmx and template:
        return render(request, template, {"destination": found, **extra})
    return redirect(destination_url(found, "mappings"))


@workspace_view(DESTINATION, post="change")
@require_POST
def mapping_toggle(
    request: UIRequest, workspace: Workspace, destination: Destination, subscription: str
) -> HttpResponse:
    row = get_object(request.principal, destination.subscriptions.filter(key_id=subscription))
    try:
        row = service.do_update_subscription(
            principal=request.principal, subscription=row, changes={"enabled": not row.enabled}
        )
    except SwitchyardError as exc:
        refuse(exc)
        row.refresh_from_db()
        if not request.htmx:
            messages.error(request, exc.message)
        return _after(
            request,
            destination,
            "connections/_mapping_row.html",
            **_row(destination, row, exc.message),
        )
    if not request.htmx:
        state = "Enabled" if row.enabled else "Disabled"
        messages.success(request, f"{state} mapping {row.name}.")
    return _after(request, destination, "connections/_mapping_row.html", **_row(destination, row))


def _row(found: Destination, row: Subscription, error: str = "") -> dict[str, Any]:
    definition = destination_service.definition_of(found)
    action = definition.action(row.action)
    return {
        "s": row,
        "action_name": action.name if action else row.action,
        "workspace": found.source.workspace,
        "source": found.source,
        "can_change": True,
        "row_error": error,
    }


@workspace_view(DESTINATION, post="change")
@require_POST
def mapping_delete(
    request: UIRequest, workspace: Workspace, destination: Destination, subscription: str
) -> HttpResponse:
    row = get_object(request.principal, destination.subscriptions.filter(key_id=subscription))
    return delete_row(
        request,
        destination,
        partial(service.do_delete_subscription, principal=request.principal, subscription=row),
        what=f"mapping {row.name}",
        tab="mappings",
    )
