"""Connections > Sources: the list a principal may see, create, and one source's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from connections.models import Source
from connections.services import sources as service
from switchyard.errors import SwitchyardError
from workspace import access
from workspace.access import Principal
from workspace.forms import SourceCreateForm, SourceForm
from workspace.models import Label
from workspace.selectors import workspace_for
from workspace.views.base import attach_error

_FORM_FIELDS = {"name": "slug"}


@login_required
def source_list(request: HttpRequest, slug: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    can_create = access.can_create(principal, "source", workspace)
    form = SourceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = service.do_create_source(
                principal=principal,
                workspace=workspace,
                slug=form.cleaned_data["slug"],
                display_name=form.cleaned_data["display_name"],
                labels=form.label_list(),
            )
        except SwitchyardError as exc:
            attach_error(form, exc, _FORM_FIELDS)
        else:
            messages.success(request, f"Created source {source.display_name}.")
            return redirect("connections:source", slug=slug, source=source.slug)
    rows = (
        access.restrict(Source.objects.filter(workspace=workspace), principal, "view")
        .prefetch_related("labels")
        .order_by("display_name", "slug")
    )
    keys = sorted(set(Label.objects.filter(workspace=workspace).values_list("key", flat=True)))
    context = {
        "workspace": workspace,
        "nav": "sources",
        "rows": rows,
        "keys": keys,
        "form": form,
        "can_create": can_create,
    }
    return render(request, "connections/sources.html", context, status=400 if form.errors else 200)


@login_required
def source_detail(request: HttpRequest, slug: str, source: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    found = (
        access.restrict(Source.objects.filter(workspace=workspace, slug=source), principal, "view")
        .prefetch_related("labels")
        .first()
    )
    if found is None:
        raise Http404("source not found")
    form = SourceForm(
        request.POST or None,
        initial={"display_name": found.display_name, "labels": " ".join(found.label_names)},
    )
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                service.do_delete_source(principal=principal, source=found)
                messages.success(request, f"Deleted source {found.display_name}.")
                return redirect("connections:sources", slug=slug)
            if form.is_valid():
                service.do_update_source(
                    principal=principal,
                    source=found,
                    changes={
                        "display_name": form.cleaned_data["display_name"],
                        "labels": form.label_list(),
                    },
                )
                messages.success(request, "Source saved.")
                return redirect("connections:source", slug=slug, source=found.slug)
        except SwitchyardError as exc:
            attach_error(form, exc, _FORM_FIELDS)
    context = {
        "workspace": workspace,
        "nav": "sources",
        "source": found,
        "form": form,
        "can_change": access.can(principal, "change", found),
        "can_delete": access.can(principal, "delete", found),
    }
    return render(request, "connections/source.html", context, status=400 if form.errors else 200)
