"""Connections: the overview, the sources a principal may see, and one source's
page (overview, write keys, destinations, settings)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString

from connections import catalog, selectors
from connections.forms import SourceCreateForm, SourceForm, WriteKeyForm
from connections.models import Destination, Source
from connections.services import sources as service
from connections.services import write_keys as write_key_service
from connections.views.lookups import SOURCE
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, charts, workspace_view
from workspace.models import Label, Workspace

# The API names the source by ``name``; the form asks for its slug.
_FORM_FIELDS = {"name": "slug"}


@workspace_view()
def overview(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """Every visible source with the destinations it feeds."""
    rows = (
        access.restrict(Source.objects.filter(workspace=workspace), request.principal, "view")
        .prefetch_related(
            Prefetch(
                "destinations",
                queryset=Destination.objects.annotate(
                    mapping_count=Count("subscriptions", filter=Q(subscriptions__enabled=True))
                ).order_by("display_name"),
            )
        )
        .order_by("display_name", "slug")
    )
    types = {t.slug: t for t in catalog.source_types()}
    definitions = {d.slug: d for d in catalog.destinations()}
    found = list(rows)
    health = selectors.connection_health([d for s in found for d in s.destinations.all()])
    sources = [
        {
            "source": s,
            "type": types.get(s.source_type),
            "destinations": [
                (d, definitions.get(d.definition), health[d.pk], _light(health[d.pk]))
                for d in s.destinations.all()
            ],
        }
        for s in found
    ]
    context = {
        "workspace": workspace,
        "nav": "connections",
        "sources": sources,
        "failing_percent": round(selectors.FAILING_RATE * 100),
        # The add buttons only for those who may: a new source needs the owner or
        # an admin grant on all sources, a destination a source they may change.
        "can_add_source": access.can_create(request.principal, "source", workspace),
        "can_add_destination": access.restrict(rows, request.principal, "change").exists(),
    }
    return render(request, "connections/overview.html", context)


HEALTH_COLORS = {
    "healthy": charts.GREEN,
    "degraded": charts.ORANGE,
    "failing": charts.RED,
    "idle": charts.GREY,
    "disabled": charts.GREY,
}


def _light(health: dict[str, Any]) -> SafeString:
    return charts.dot(HEALTH_COLORS[health["health"]], health["words"])


def volume_chart(source: Source, window: str) -> charts.Chart:
    volume = selectors.event_volume(source, window)
    return charts.stacked_bars(
        "volume-chart",
        f"Events received by {source.display_name} over the last {window}, by type",
        volume["labels"],
        [
            charts.Series(kind, values, charts.PALETTE[i % len(charts.PALETTE)])
            for i, (kind, values) in enumerate(volume["series"].items())
        ],
    )


@workspace_view()
def source_list(request: UIRequest, workspace: Workspace) -> HttpResponse:
    can_create = access.can_create(request.principal, "source", workspace)
    # The catalog's "Add source" links here with ?type=<slug>: that type is picked.
    picked = request.GET.get("type")
    initial = {"source_type": picked} if catalog.source_type(picked or "") else {}
    form = SourceCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            source = service.do_create_source(
                principal=request.principal,
                workspace=workspace,
                slug=form.cleaned_data["slug"],
                display_name=form.cleaned_data["display_name"],
                source_type=form.cleaned_data["source_type"],
                labels=form.label_list(),
            )
        except SwitchyardError as exc:
            add_service_error(form, exc, _FORM_FIELDS)
        else:
            messages.success(request, f"Created source {source.display_name}.")
            return redirect("connections:source", slug=workspace.slug, source=source.slug)
    rows = (
        access.restrict(Source.objects.filter(workspace=workspace), request.principal, "view")
        .prefetch_related("labels")
        .annotate(destination_count=Count("destinations"))
        .order_by("display_name", "slug")
    )
    types = {t.slug: t.name for t in catalog.source_types()}
    keys = sorted(set(Label.objects.filter(workspace=workspace).values_list("key", flat=True)))
    context = {
        "workspace": workspace,
        "nav": "sources",
        "rows": [(s, types.get(s.source_type, s.source_type)) for s in rows],
        "keys": keys,
        "form": form,
        "can_create": can_create,
    }
    return render(request, "connections/sources.html", context, status=400 if form.errors else 200)


def _post_source_action(
    request: HttpRequest, principal: Principal, found: Source, form: SourceForm
) -> HttpResponse | None:
    """One form per intent on the source page; returns the redirect on success."""
    here = redirect("connections:source", slug=found.workspace.slug, source=found.slug)
    intent = request.POST.get("intent", "save")
    if intent == "delete":
        if request.POST.get("confirm") != found.slug:
            messages.error(request, f"Type the source's slug ({found.slug}) to delete it.")
            return here
        service.do_delete_source(principal=principal, source=found)
        messages.success(request, f"Deleted source {found.display_name} and its destinations.")
        return redirect("connections:sources", slug=found.workspace.slug)
    if intent == "create_key":
        key_form = WriteKeyForm(request.POST)
        description = key_form.cleaned_data["description"] if key_form.is_valid() else ""
        write_key_service.do_create_write_key(
            principal=principal, source=found, description=description
        )
        messages.success(request, "Created a write key.")
        return here
    if intent == "revoke_key":
        key = found.write_keys.filter(key_id=request.POST.get("key_id", "")).first()
        if key is None:
            raise Http404("write key not found")
        write_key_service.do_revoke_write_key(principal=principal, key=key)
        messages.success(request, f"Revoked write key {key.key_id}; it no longer authenticates.")
        return here
    if form.is_valid():
        service.do_update_source(
            principal=principal,
            source=found,
            changes={
                "display_name": form.cleaned_data["display_name"],
                "enabled": form.cleaned_data["enabled"],
                "labels": form.label_list(),
            },
        )
        messages.success(request, "Source saved.")
        return here
    return None


@workspace_view(SOURCE)
def source_detail(request: UIRequest, workspace: Workspace, source: Source) -> HttpResponse:
    form = SourceForm(
        request.POST
        if request.method == "POST" and request.POST.get("intent", "save") == "save"
        else None,
        initial={
            "display_name": source.display_name,
            "enabled": source.enabled,
            "labels": " ".join(source.label_names),
        },
    )
    if request.method == "POST":
        try:
            done = _post_source_action(request, request.principal, source, form)
        except SwitchyardError as exc:
            if request.POST.get("intent", "save") != "save":
                messages.error(request, exc.message)
                return redirect("connections:source", slug=workspace.slug, source=source.slug)
            add_service_error(form, exc, _FORM_FIELDS)
        else:
            if done is not None:
                return done
    can_change = access.can(request.principal, "change", source)
    definitions = {d.slug: d for d in catalog.destinations()}
    found = list(
        source.destinations.annotate(
            mapping_count=Count("subscriptions", filter=Q(subscriptions__enabled=True))
        ).order_by("display_name")
    )
    health = selectors.connection_health(found)
    destinations = [
        (d, definitions.get(d.definition), health[d.pk], _light(health[d.pk])) for d in found
    ]
    asked = request.GET.get("volume", "")
    volume_window = asked if asked in selectors.VOLUME_WINDOWS else "24h"
    context = {
        "workspace": workspace,
        "nav": "sources",
        "source": source,
        "source_type": catalog.source_type(source.source_type),
        "write_keys": source.write_keys.order_by("revoke_time", "-create_time"),
        "show_secrets": write_key_service.can_read_secret(request.principal, source),
        "destinations": destinations,
        "form": form,
        "can_change": can_change,
        "can_delete": access.can(request.principal, "delete", source),
        "tracking_host": request.build_absolute_uri("/").rstrip("/"),
        "volume_window": volume_window,
        "volume_windows": selectors.VOLUME_WINDOWS,
        "volume_chart": volume_chart(source, volume_window),
    }
    return render(request, "connections/source.html", context, status=400 if form.errors else 200)
