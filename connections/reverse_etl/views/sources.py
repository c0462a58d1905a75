"""Reverse ETL sources: the list with the warehouse catalog, the PostgreSQL form
(create and edit), and a source's page (its models, Test connection, delete)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from connections.reverse_etl.forms.sources import PostgresSourceForm
from connections.reverse_etl.models import RetlSource
from connections.reverse_etl.services import sources as service
from connections.reverse_etl.views.lookups import MANAGE_REFUSAL, NAV, SOURCE, attempt
from connections.reverse_etl.warehouses import catalog
from connections.reverse_etl.warehouses.base import ConnectionReport
from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, refuse, workspace_view
from workspace.models import Workspace

# The service names the slug "name" (the API's resource name).
FORM_FIELDS = {"name": "slug"}
CHECK_TITLES = {
    "connect": "Connect",
    "read": "Read tables",
    "bookkeeping": "Bookkeeping schema",
}
BOOKKEEPING_WORDS = {
    "WAREHOUSE": "in the warehouse (schema __switchyard_retl)",
    "SWITCHYARD": "in Switchyard's own database (the user cannot create the schema)",
}


def _warehouse_name(slug: str) -> str:
    kind = catalog.BY_SLUG.get(slug)
    return kind.name if kind else slug


@workspace_view()
def source_list(request: UIRequest, workspace: Workspace) -> HttpResponse:
    rows = (
        access.restrict(RetlSource.objects.filter(workspace=workspace), request.principal, "view")
        .annotate(model_count=Count("models"))
        .order_by("display_name", "slug")
    )
    context = {
        "workspace": workspace,
        "nav": NAV,
        "rows": [(s, _warehouse_name(s.warehouse)) for s in rows],
        "warehouses": catalog.WAREHOUSES,
        "can_create": access.can_create(request.principal, "source", workspace),
    }
    return render(request, "reverse_etl/sources.html", context)


@workspace_view(action="view")
@require_http_methods(["GET", "POST"])
def source_add(request: UIRequest, workspace: Workspace, warehouse: str) -> HttpResponse:
    """The catalog's setup form; a documented warehouse not built yet says so."""
    kind = catalog.BY_SLUG.get(warehouse)
    if kind is None:
        raise Http404("unknown warehouse")
    can_create = access.can_create(request.principal, "source", workspace)
    if request.method == "POST" and not can_create:
        raise PermissionDenied(MANAGE_REFUSAL)
    form = PostgresSourceForm(request.POST or None) if kind.implemented else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            source = service.do_create_retl_source(
                principal=request.principal,
                workspace=workspace,
                slug=form.cleaned_data["slug"],
                warehouse=kind.slug,
                **form.service_values(),
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc, FORM_FIELDS)
        else:
            messages.success(
                request, f"Created source {source.display_name}. Test its connection below."
            )
            return redirect("reverse_etl:source", slug=workspace.slug, source=source.slug)
    context = {
        "workspace": workspace,
        "nav": NAV,
        "kind": kind,
        "form": form,
        "can_create": can_create,
    }
    # A documented warehouse that is not built answers as the API does (501).
    status = 501 if form is None else 400 if form.errors else 200
    return render(request, "reverse_etl/source_add.html", context, status=status)


def _report_rows(report: ConnectionReport) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "title": CHECK_TITLES.get(c.name, c.name),
            "passed": c.passed,
            "detail": c.detail,
        }
        for c in report.checks
    ]


@workspace_view(SOURCE)
@require_http_methods(["GET", "POST"])
def source_detail(request: UIRequest, workspace: Workspace, source: RetlSource) -> HttpResponse:
    """The source, its models; POST ``intent=test`` runs the connection test and shows
    each check, ``intent=delete`` (with the slug typed) deletes it."""
    report: ConnectionReport | None = None
    status = 200
    if request.method == "POST":
        intent = request.POST.get("intent", "")
        if intent == "delete":
            if request.POST.get("confirm") != source.slug:
                messages.error(request, f"Type the source's slug ({source.slug}) to delete it.")
                return redirect("reverse_etl:source", slug=workspace.slug, source=source.slug)
            if attempt(
                request,
                lambda: service.do_delete_retl_source(principal=request.principal, source=source),
                f"Deleted source {source.display_name} and its models.",
            ):
                return redirect("reverse_etl:sources", slug=workspace.slug)
            return redirect("reverse_etl:source", slug=workspace.slug, source=source.slug)
        if intent != "test":
            raise Http404("unknown action")
        try:
            report = service.do_test_connection(principal=request.principal, source=source)
            source.refresh_from_db(fields=["bookkeeping"])
        except SwitchyardError as exc:
            refuse(exc)
            messages.error(request, exc.message)
            status = 400
    context = {
        "workspace": workspace,
        "nav": NAV,
        "source": source,
        "warehouse_name": _warehouse_name(source.warehouse),
        "models": source.models.order_by("display_name", "slug").annotate(
            mapping_count=Count("mappings")
        ),
        "report": report,
        "checks": _report_rows(report) if report else [],
        "bookkeeping": BOOKKEEPING_WORDS[report.bookkeeping] if report else "",
        # Where the snapshots are kept once decided (the first test or sync decides).
        "kept_bookkeeping": BOOKKEEPING_WORDS.get(source.bookkeeping, ""),
        "can_change": access.can(request.principal, "change", source),
        "can_delete": access.can(request.principal, "delete", source),
    }
    return render(request, "reverse_etl/source.html", context, status=status)


@workspace_view(SOURCE, action="change")
@require_http_methods(["GET", "POST"])
def source_edit(request: UIRequest, workspace: Workspace, source: RetlSource) -> HttpResponse:
    form = PostgresSourceForm(
        request.POST or None,
        source=source,
        initial={
            "display_name": source.display_name,
            "host": source.host,
            "port": source.port,
            "database": source.database,
            "username": source.username,
            "ssl_mode": source.ssl_mode,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            service.do_update_retl_source(
                principal=request.principal, source=source, changes=form.service_values()
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc, FORM_FIELDS)
        else:
            messages.success(request, "Source saved. Test its connection again if it moved.")
            return redirect("reverse_etl:source", slug=workspace.slug, source=source.slug)
    context = {
        "workspace": workspace,
        "nav": NAV,
        "source": source,
        "form": form,
        "can_change": access.can(request.principal, "change", source),
    }
    return render(
        request, "reverse_etl/source_edit.html", context, status=400 if form.errors else 200
    )
