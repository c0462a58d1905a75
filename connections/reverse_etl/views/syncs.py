"""Reverse ETL sync overview (every mapping with its latest sync), a mapping's sync
history (Sync now, Reset sync) and one sync's detail: status and duration,
extraction and load results, the failed records (reason and sample payload,
paginated) and Cancel sync."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from connections import catalog
from connections.reverse_etl.forms.syncs import RESET_CONFIRMATION, ResetSyncForm
from connections.reverse_etl.models import RetlMapping, RetlSync, RetlSyncRecord
from connections.reverse_etl.services import syncs as service
from connections.reverse_etl.views.lookups import MANAGE_REFUSAL, MAPPING, NAV, SYNC, attempt
from switchyard import access
from switchyard.ui import UIRequest, workspace_view
from workspace.models import Workspace

HISTORY_SIZE = 50
FAILED_PAGE_SIZE = 25
Status = RetlSync.Status
# The docs' words for a sync's status (connections.md 9.2) and a badge colour.
STATUS_WORDS: dict[str, tuple[str, str]] = {
    Status.QUEUED: ("In progress", "primary"),
    Status.EXTRACTING: ("In progress", "primary"),
    Status.LOADING: ("In progress", "primary"),
    Status.COMMITTING: ("In progress", "primary"),
    Status.CANCELING: ("Canceling", "warning"),
    Status.SUCCEEDED: ("Successful", "success"),
    Status.PARTIALLY_SUCCEEDED: ("Partially successful", "warning"),
    Status.FAILED: ("Failed", "danger"),
    Status.CANCELED: ("Canceled", "secondary"),
}
STEPS: dict[str, str] = {
    Status.QUEUED: "queued",
    Status.EXTRACTING: "extracting",
    Status.LOADING: "loading",
    Status.COMMITTING: "committing",
}


def status_badge(status: str) -> dict[str, str]:
    words, color = STATUS_WORDS.get(status, (status, "secondary"))
    return {"words": words, "color": color, "step": STEPS.get(status, "")}


def action_label(mapping: RetlMapping) -> str:
    """The mapping's action by its catalog name (the overview's Action column); the
    key when the catalog no longer has it."""
    definition = catalog.destination(mapping.destination.definition)
    action = definition.action(mapping.action) if definition else None
    return action.name if action else mapping.action


def duration(sync: RetlSync) -> datetime.timedelta:
    end = sync.finish_time or timezone.now()
    return max(end - sync.create_time, datetime.timedelta(0))


def duration_words(sync: RetlSync) -> str:
    seconds = int(duration(sync).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def _visible_mappings(request: UIRequest, workspace: Workspace) -> Any:
    return access.restrict(
        RetlMapping.objects.filter(workspace=workspace), request.principal, "view"
    )


@workspace_view()
def overview(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """Connections > Reverse ETL: every mapping the principal may see with its latest sync."""
    latest = RetlSync.objects.filter(mapping=OuterRef("pk")).order_by("-create_time", "-id")
    mappings = (
        _visible_mappings(request, workspace)
        .select_related("model", "destination")
        .annotate(
            latest_status=Subquery(latest.values("status")[:1]),
            latest_key=Subquery(latest.values("key_id")[:1]),
            latest_time=Subquery(latest.values("create_time")[:1]),
        )
        .order_by("model__display_name", "display_name", "pk")
    )
    rows = [
        {
            "mapping": m,
            "action": action_label(m),
            "latest": status_badge(m.latest_status) if m.latest_status else None,
        }
        for m in mappings
    ]
    sources = access.restrict(
        workspace.reverse_etl_sources.all(), request.principal, "view"
    ).count()
    context = {
        "workspace": workspace,
        "nav": NAV,
        "rows": rows,
        "source_count": sources,
        "can_create": access.can_create(request.principal, "source", workspace),
    }
    return render(request, "reverse_etl/overview.html", context)


@workspace_view(MAPPING)
@require_http_methods(["GET", "POST"])
def sync_history(request: UIRequest, workspace: Workspace, mapping: RetlMapping) -> HttpResponse:
    """The mapping's runs, newest first; POST ``intent=run`` (Sync now) or
    ``intent=reset`` (with the confirmation ticked)."""
    can_change = access.can(request.principal, "change", mapping)
    reset_form = ResetSyncForm(
        request.POST if request.method == "POST" and request.POST.get("intent") == "reset" else None
    )
    here = redirect("reverse_etl:syncs", slug=workspace.slug, mapping=mapping.key_id)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(MANAGE_REFUSAL)
        intent = request.POST.get("intent", "")
        if intent == "run":
            started: list[RetlSync] = []
            attempt(
                request,
                lambda: started.append(
                    service.do_run_now(principal=request.principal, mapping=mapping)
                ),
                "Sync started.",
            )
            if started:
                return redirect(
                    "reverse_etl:sync",
                    slug=workspace.slug,
                    mapping=mapping.key_id,
                    sync=started[0].key_id,
                )
            return here
        if intent != "reset":
            raise Http404("unknown action")
        if reset_form.is_valid():
            attempt(
                request,
                lambda: service.do_reset_mapping(principal=request.principal, mapping=mapping),
                "Sync state reset: the next sync adds every record of the model.",
            )
            return here
    syncs = list(mapping.syncs.order_by("-create_time", "-id")[:HISTORY_SIZE])
    context = {
        "workspace": workspace,
        "nav": NAV,
        "mapping": mapping,
        "action_name": action_label(mapping),
        "rows": [
            {"sync": s, "badge": status_badge(s.status), "duration": duration_words(s)}
            for s in syncs
        ],
        "running": any(s.status in RetlSync.ACTIVE for s in syncs),
        "reset_form": reset_form,
        "reset_confirmation": RESET_CONFIRMATION,
        "can_change": can_change,
    }
    return render(
        request, "reverse_etl/syncs.html", context, status=400 if reset_form.errors else 200
    )


def load_by_change(sync: RetlSync) -> dict[str, int]:
    """Successful records per change (the docs' load results: new, updated, deleted)."""
    found = dict(
        sync.records.filter(outcome=RetlSyncRecord.Outcome.SUCCESSFUL)
        .values("change")
        .annotate(n=Count("pk"))
        .values_list("change", "n")
    )
    return {
        "new": found.get("added", 0),
        "updated": found.get("updated", 0),
        "deleted": found.get("deleted", 0),
    }


def _pretty(payload: Any) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@workspace_view(SYNC)
@require_http_methods(["GET", "POST"])
def sync_detail(request: UIRequest, workspace: Workspace, sync: RetlSync) -> HttpResponse:
    """One run; POST ``intent=cancel`` cancels it while it runs."""
    mapping = sync.mapping
    can_change = access.can(request.principal, "change", sync)
    if request.method == "POST":
        if request.POST.get("intent") != "cancel":
            raise Http404("unknown action")
        attempt(
            request,
            lambda: service.do_cancel(
                principal=request.principal, sync=sync, reason=request.POST.get("reason", "")
            ),
            "Cancel requested: records already processed stay synced.",
        )
        return redirect(
            "reverse_etl:sync", slug=workspace.slug, mapping=mapping.key_id, sync=sync.key_id
        )
    failed = sync.records.filter(outcome=RetlSyncRecord.Outcome.FAILED).order_by("pk")
    page = Paginator(failed, FAILED_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "workspace": workspace,
        "nav": NAV,
        "sync": sync,
        "mapping": mapping,
        "badge": status_badge(sync.status),
        "duration": duration_words(sync),
        "load": load_by_change(sync),
        "failed_page": page,
        "failed_rows": [
            {"record": r, "payload": _pretty(r.payload) if r.payload is not None else ""}
            for r in page
        ],
        "active": sync.status in RetlSync.ACTIVE,
        "can_cancel": can_change
        and sync.status in RetlSync.ACTIVE
        and sync.status != Status.CANCELING,
        "can_change": can_change,
    }
    return render(request, "reverse_etl/sync.html", context)
