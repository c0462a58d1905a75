"""Connections > Destinations: the add-destination flow (pick a catalog entry, a
source, then settings), one destination's page (Settings, Mappings, Filters,
Test tabs) and its "test on a sample event" panel. The services decide; these
views parse forms and show the services' errors at the fields they name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connections import catalog, selectors
from connections.catalog.search import filter_destinations
from connections.forms import (
    SETTINGS_ERRORS,
    SettingsForm,
    SettingsInputError,
    sample_event_json,
)
from connections.models import Destination, Source
from connections.rules import filtering
from connections.selectors import WINDOWS
from connections.services import address_warnings
from connections.services import delivery as delivery_service
from connections.services import destinations as service
from connections.services import preview as preview_service
from connections.services.subscriptions import SUBSCRIPTIONS_PER_DESTINATION_MAX
from connections.views.lookups import DESTINATION
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, SwitchyardError
from switchyard.ui import (
    UIRequest,
    add_service_error,
    charts,
    refuse,
    signed_in_view,
    workspace_view,
)
from switchyard.validation import load_json
from workspace.models import Workspace

TABS = ("settings", "mappings", "filters", "test", "delivery")


# --- shared helpers (the mapping and filter views use them too) -------------------------


def destination_url(destination: Destination, tab: str = "") -> str:
    url = reverse(
        "connections:destination",
        args=[destination.source.workspace.slug, destination.source.slug, destination.key_id],
    )
    return f"{url}?tab={tab}" if tab else url


def delete_row(
    request: HttpRequest,
    found: Destination,
    delete: Callable[[], None],
    *,
    what: str,
    tab: str,
) -> HttpResponse:
    """A mapping's or filter's delete button: run the service, say what happened
    and go back to the tab."""
    try:
        delete()
    except SwitchyardError as exc:
        refuse(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted {what}.")
    return redirect(destination_url(found, tab))


def warn_refused_addresses(request: HttpRequest, warnings: list[str]) -> None:
    """Saved, but delivery's SSRF guard will refuse these URLs: say so on the next page."""
    for warning in warnings:
        messages.warning(request, warning)


def base_context(
    workspace: Workspace, destination: Destination, principal: Principal
) -> dict[str, Any]:
    definition = catalog.destination(destination.definition)
    return {
        "workspace": workspace,
        "nav": "sources",
        "source": destination.source,
        "destination": destination,
        "definition": definition,
        "can_change": access.can(principal, "change", destination),
    }


# --- add a destination ----------------------------------------------------------------


@signed_in_view
def source_add_destination(request: HttpRequest, slug: str, source: str) -> HttpResponse:
    url = reverse("connections:add_destination", args=[slug])
    return redirect(f"{url}?{urlencode({'source': source})}")


@workspace_view()
def add_destination(request: UIRequest, workspace: Workspace) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    definition_slug = params.get("definition", "").strip()
    source_slug = params.get("source", "").strip()
    context: dict[str, Any] = {
        "workspace": workspace,
        "nav": "sources",
        "source_slug": source_slug,
        "definition_slug": definition_slug,
    }
    visible = access.restrict(Source.objects.filter(workspace=workspace), request.principal, "view")
    changeable = access.restrict(visible, request.principal, "change").order_by(
        "display_name", "slug"
    )
    # Say at once, not after a destination is picked, that there is nowhere to add one.
    context["can_add"] = changeable.exists()
    definition = catalog.destination(definition_slug) if definition_slug else None
    if definition is None:  # step 1: pick a destination from the catalog
        query = request.GET.get("q", "").strip()
        context.update(
            step=1,
            query=query,
            definitions=filter_destinations(catalog.destinations(), search=query),
            unknown=definition_slug,
        )
        return render(request, "connections/destination_add.html", context)
    context["definition"] = definition
    chosen = visible.filter(slug=source_slug).first() if source_slug else None
    if chosen is not None and not access.can(request.principal, "change", chosen):
        if request.method == "POST":
            raise PermissionDenied("you may not add destinations to this source")
        context["read_only_source"] = chosen
        chosen = None
    if chosen is None:  # step 2: pick a source the user may change
        context.update(step=2, sources=changeable)
        return render(request, "connections/destination_add.html", context)
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        definition=definition,
        initial={"display_name": definition.name, "enabled": False},
    )
    quick_setup = request.POST.get("quick_setup") == "on" if request.method == "POST" else True
    context.update(step=3, source=chosen, form=form, quick_setup=quick_setup)
    if request.method == "POST" and form.is_valid():
        try:
            created = service.do_create_destination(
                principal=request.principal,
                source=chosen,
                definition=definition.slug,
                display_name=form.cleaned_data["display_name"],
                settings=form.settings(),
                enabled=form.cleaned_data["enabled"],
                presets=True if quick_setup else None,
            )
        except SettingsInputError as exc:
            add_service_error(form, exc)
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc, SETTINGS_ERRORS)
        else:
            presets = created.subscriptions.count()
            note = f" with {presets} preset mapping{'s' if presets != 1 else ''}" if presets else ""
            messages.success(
                request, f"Added {created.display_name} to {chosen.display_name}{note}."
            )
            warn_refused_addresses(request, address_warnings.for_destination(created))
            return redirect(destination_url(created))
    status = 400 if form.errors else 200
    return render(request, "connections/destination_add.html", context, status=status)


# --- one destination ----------------------------------------------------------------------


def _settings_form(destination: Destination, data: Any = None) -> SettingsForm:
    definition = service.definition_of(destination)
    stored = frozenset(k for k in definition.secret_settings if destination.settings.get(k))
    return SettingsForm(
        data,
        definition=definition,
        values=destination.settings,
        stored_secrets=stored,
        initial={"display_name": destination.display_name, "enabled": destination.enabled},
    )


def _post(request: HttpRequest, principal: Principal, found: Destination) -> HttpResponse | None:
    """The Settings tab's forms; a response on success, None to show the page."""
    intent = request.POST.get("intent", "save")
    if intent == "delete":
        service.do_delete_destination(principal=principal, destination=found)
        messages.success(request, f"Deleted destination {found.display_name}.")
        return redirect(
            "connections:source", slug=found.source.workspace.slug, source=found.source.slug
        )
    if intent == "enable":
        enabled = request.POST.get("enabled") == "1"
        service.do_update_destination(
            principal=principal, destination=found, changes={"enabled": enabled}
        )
        messages.success(request, f"{'Enabled' if enabled else 'Disabled'} {found.display_name}.")
        return redirect(destination_url(found, request.POST.get("tab", "settings")))
    raise Http404(f"unknown action {intent!r}")


@workspace_view(DESTINATION, post="change")
def destination_detail(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    tab = request.GET.get("tab", "settings")
    if tab not in TABS:
        tab = "settings"
    saving = request.method == "POST" and request.POST.get("intent", "save") == "save"
    form = _settings_form(destination, request.POST if saving else None)
    if request.method == "POST":
        try:
            if saving:
                if form.is_valid():
                    saved = service.do_update_destination(
                        principal=request.principal,
                        destination=destination,
                        changes={
                            "display_name": form.cleaned_data["display_name"],
                            "enabled": form.cleaned_data["enabled"],
                            "settings": form.settings(),
                        },
                    )
                    messages.success(request, "Destination settings saved.")
                    warn_refused_addresses(request, address_warnings.for_destination(saved))
                    return redirect(destination_url(destination, "settings"))
            else:
                done = _post(request, request.principal, destination)
                if done is not None:
                    return done
        except SettingsInputError as exc:
            add_service_error(form, exc)
        except SwitchyardError as exc:
            refuse(exc)
            if not saving:
                messages.error(request, exc.message)
                return redirect(destination_url(destination, tab))
            add_service_error(form, exc, SETTINGS_ERRORS)
            destination.refresh_from_db()
        tab = "settings"
    subscriptions = list(destination.subscriptions.order_by("position", "id"))
    filters = list(destination.filters.order_by("position", "id"))
    definition = catalog.destination(destination.definition)
    action_names = {a.key: a.name for a in definition.actions} if definition else {}
    context = base_context(workspace, destination, request.principal)
    context.update(
        tab=tab,
        form=form,
        confirm_delete=request.GET.get("delete") == "1",
        subscriptions=[(s, action_names.get(s.action, s.action)) for s in subscriptions],
        filters=[(f, summarize_actions(f.actions)) for f in filters],
        mappings_full=len(subscriptions) >= SUBSCRIPTIONS_PER_DESTINATION_MAX,
        mappings_max=SUBSCRIPTIONS_PER_DESTINATION_MAX,
        filters_full=len(filters) >= filtering.FILTERS_PER_DESTINATION,
        filters_max=filtering.FILTERS_PER_DESTINATION,
        sample_event=sample_event_json(),
    )
    if tab == "test":
        context.update(_tester_events(request, destination))
    if tab == "delivery":
        asked = request.GET.get("window", "")
        window = asked if asked in WINDOWS else "24h"
        overview = selectors.delivery_overview(destination, window)
        context.update(
            window=window,
            windows=WINDOWS,
            overview=overview,
            delivery_chart=delivery_chart(overview["timeline"], window),
            failures=[
                (d, _json_text(d.request), _json_text(d.response))
                for d in selectors.visible_failures(request.principal, destination)
            ],
        )
    return render(
        request, "connections/destination.html", context, status=400 if form.errors else 200
    )


def delivery_chart(timeline: dict[str, Any], window: str) -> charts.Chart:
    series = timeline["series"]
    return charts.stacked_bars(
        "delivery-chart",
        f"Events at this destination over the last {window}",
        timeline["labels"],
        [
            charts.Series("Delivered", series["delivered"], charts.GREEN),
            charts.Series("Filtered at destination", series["filtered"], charts.GREY),
            charts.Series("Failed", series["failed"], charts.RED),
        ],
    )


def _json_text(value: Any) -> str:
    """A stored request or response as pretty JSON (``null``, ``true``), not a repr."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def summarize_actions(actions: Any) -> str:
    """``Sample 10% by userId; Drop properties.email`` for the filters table."""
    parts: list[str] = []
    for action in actions or []:
        kind = action.get("type")
        if kind == "DROP":
            parts.append("Drop event")
        elif kind == "SAMPLE":
            percent = float(action.get("percent", 0)) * 100
            by = f" by {action['path']}" if action.get("path") else ""
            parts.append(f"Sample {percent:g}%{by}")
        elif kind in ("DROP_PROPERTIES", "ALLOW_PROPERTIES"):
            names = [
                f"{obj}.{name}" if obj else name
                for obj, items in (action.get("fields") or {}).items()
                for name in items
            ]
            verb = "Drop" if kind == "DROP_PROPERTIES" else "Allow only"
            parts.append(f"{verb} {', '.join(names)}")
    return "; ".join(parts)


# --- the test panel ----------------------------------------------------------------------

TESTER_RECENT_EVENTS = 20


def _event_json(request: UIRequest, destination: Destination, event_id: str) -> str | None:
    """The source's stored event ``event_id`` as the tester's JSON, as this user may
    see it (the debugger's "Validate", the recent-events picker); None if gone."""
    found = selectors.event_of(destination.source, event_id)
    if found is None:
        return None
    payload = selectors.visible_payload(request.principal, destination.source, found.payload)
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)


def _tester_events(request: UIRequest, destination: Destination) -> dict[str, Any]:
    """The picker of the source's latest events and, with ?event=<id>, that event loaded."""
    context: dict[str, Any] = {
        "recent_events": selectors.recent_events(destination.source, limit=TESTER_RECENT_EVENTS)
    }
    asked = request.GET.get("event", "")
    if asked:
        loaded = _event_json(request, destination, asked)
        if loaded is None:
            context["event_missing"] = True
        else:
            context.update(sample_event=loaded, loaded_event=asked)
    return context


@workspace_view(DESTINATION)
def destination_test_event(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    """The tester's textarea holding one of the source's recent events (htmx swaps it)."""
    loaded = _event_json(request, destination, request.GET.get("event", ""))
    context = {
        "sample_event": loaded if loaded is not None else sample_event_json(),
        "event_missing": loaded is None,
    }
    return render(request, "connections/_destination_test_event.html", context)


@workspace_view(DESTINATION)
@require_POST
def destination_test(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    """Run the destination's saved filters and mappings on a sample event (nothing
    is sent); answers the result partial, 200 even for bad input so htmx swaps it."""
    context: dict[str, Any] = {"destination": destination}
    text = request.POST.get("event", "")
    try:
        event = load_json(text)
    except InvalidArgument as exc:
        context["error"] = f"The sample event is refused: {exc.message}."
        return render(request, "connections/_destination_test_result.html", context)
    try:
        result = preview_service.preview(destination, event)
    except SwitchyardError as exc:
        context["error"] = exc.message
        return render(request, "connections/_destination_test_result.html", context)
    for mapping in result["mappings"]:
        mapping["payload_json"] = (
            json.dumps(mapping["payload"], indent=2, ensure_ascii=False)
            if mapping["payload"] is not None
            else ""
        )
    result["event_json"] = (
        json.dumps(result["event"], indent=2, ensure_ascii=False)
        if result["event"] is not None
        else ""
    )
    context["result"] = result
    return render(request, "connections/_destination_test_result.html", context)


@workspace_view(DESTINATION, post="change")
@require_POST
def destination_send_test(
    request: UIRequest, workspace: Workspace, destination: Destination
) -> HttpResponse:
    """Send the sample event for real (Segment's Event Tester: filters bypassed,
    enabled mappings, or the one mapping named) and show requests and responses."""
    context: dict[str, Any] = {"destination": destination}
    try:
        event = load_json(request.POST.get("event", ""))
    except InvalidArgument as exc:
        context["error"] = f"The test event is refused: {exc.message}."
        return render(request, "connections/_destination_send_result.html", context)
    key = request.POST.get("subscription", "")
    subscription = destination.subscriptions.filter(key_id=key).first() if key else None
    try:
        result = delivery_service.do_send_test_event(
            request.principal, destination, event, subscription
        )
    except SwitchyardError as exc:
        refuse(exc)
        context["error"] = exc.message
        return render(request, "connections/_destination_send_result.html", context)
    for mapping in result["mappings"]:
        mapping["payload_json"] = json.dumps(mapping.get("payload"), indent=2, ensure_ascii=False)
        mapping["result_json"] = json.dumps(
            mapping.get("result"), indent=2, ensure_ascii=False, default=str
        )
    context["result"] = result
    return render(request, "connections/_destination_send_result.html", context)
