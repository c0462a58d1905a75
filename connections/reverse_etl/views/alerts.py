"""Reverse ETL alert pages: the workspace's alert settings with the in-app alerts,
and a mapping's successful delivery rate alert (its Alerts tab)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from connections.reverse_etl.forms.alerts import AlertSettingsForm, MappingAlertForm
from connections.reverse_etl.models import RetlMapping
from connections.reverse_etl.services import alerts as service
from connections.reverse_etl.views.lookups import MANAGE_REFUSAL, MAPPING, NAV, attempt
from connections.reverse_etl.views.syncs import action_label
from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, refuse, workspace_view
from workspace.models import Workspace

RECENT_ALERTS = 50


@workspace_view()
@require_http_methods(["GET", "POST"])
def alert_settings(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """POST ``intent``: ``save`` (the settings) or ``read`` (mark every alert read)."""
    row = service.settings_of(workspace)
    if not access.can(request.principal, "view", row):
        raise Http404("alert settings not found")
    can_change = access.can(request.principal, "change", row)
    intent = request.POST.get("intent", "save") if request.method == "POST" else ""
    if intent == "read":
        attempt(
            request,
            lambda: service.do_mark_read(
                principal=request.principal, workspace=workspace, keys=None
            ),
            "Marked every alert read.",
        )
        return redirect("reverse_etl:alerts", slug=workspace.slug)
    if intent and not can_change:
        raise PermissionDenied(MANAGE_REFUSAL)
    form = AlertSettingsForm(
        request.POST if intent == "save" else None,
        email_configured=service.email_configured(),
        initial={**service.settings_snapshot(row), "emails": "\n".join(row.emails)},
    )
    if intent == "save" and form.is_valid():
        try:
            service.do_update_settings(
                principal=request.principal, workspace=workspace, changes=form.changes()
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc)
        else:
            messages.success(request, "Alert settings saved.")
            return redirect("reverse_etl:alerts", slug=workspace.slug)
    alerts = access.restrict(service.in_app_alerts(workspace), request.principal, "view")
    context = {
        "workspace": workspace,
        "nav": NAV,
        "form": form,
        "alerts": alerts.select_related("mapping", "sync").order_by("-create_time", "-id")[
            :RECENT_ALERTS
        ],
        "unread": alerts.filter(read_time__isnull=True).count(),
        "can_change": can_change,
    }
    return render(request, "reverse_etl/alerts.html", context, status=400 if form.errors else 200)


@workspace_view(MAPPING)
@require_http_methods(["GET", "POST"])
def mapping_alert(request: UIRequest, workspace: Workspace, mapping: RetlMapping) -> HttpResponse:
    row = service.mapping_alert_of(mapping)
    can_change = access.can(request.principal, "change", mapping)
    if request.method == "POST" and not can_change:
        raise PermissionDenied(MANAGE_REFUSAL)
    form = MappingAlertForm(
        request.POST or None, initial={"enabled": row.enabled, "threshold": row.threshold}
    )
    if request.method == "POST" and form.is_valid():
        try:
            service.do_update_mapping_alert(
                principal=request.principal, mapping=mapping, changes=form.cleaned_data
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc)
        else:
            messages.success(request, "Alert saved.")
            return redirect(
                "reverse_etl:mapping_alert", slug=workspace.slug, mapping=mapping.key_id
            )
    context = {
        "workspace": workspace,
        "nav": NAV,
        "mapping": mapping,
        "action_name": action_label(mapping),
        "alert": row,
        "form": form,
        "can_change": can_change,
    }
    return render(
        request, "reverse_etl/mapping_alert.html", context, status=400 if form.errors else 200
    )
