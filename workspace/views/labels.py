"""Settings > Labels: the catalogue grouped by key; owners create and delete labels.

htmx posts swap the catalogue in place; without JavaScript the forms post,
redirect on success and show the page with the error otherwise.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from switchyard import access
from switchyard.access import Principal
from switchyard.errors import SwitchyardError
from workspace.forms import LabelCreateForm
from workspace.models import Label, Workspace
from workspace.selectors import workspace_for
from workspace.services import labels as service
from workspace.views.base import HtmxHttpRequest, attach_error


def _render(
    request: HtmxHttpRequest,
    principal: Principal,
    workspace: Workspace,
    *,
    form: LabelCreateForm | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = {
        "workspace": workspace,
        "nav": "labels",
        "labels": Label.objects.filter(workspace=workspace).order_by("key", "value"),
        "can_administer": access.can(principal, "administer", workspace),
        "form": form or LabelCreateForm(),
        **extra,
    }
    if request.htmx:  # the catalogue alone; 200 whatever happened, or htmx would not swap it
        return render(request, "workspace/_label_catalogue.html", context)
    return render(request, "workspace/labels.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def labels(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    if request.method != "POST":
        return _render(request, principal, workspace)
    form = LabelCreateForm(request.POST)
    if not form.is_valid():
        return _render(request, principal, workspace, form=form, status=400)
    try:
        label = service.do_create_label(
            principal=principal,
            workspace=workspace,
            key=form.cleaned_data["key"],
            value=form.cleaned_data["value"],
            description=form.cleaned_data["description"],
        )
    except SwitchyardError as exc:
        attach_error(form, exc)
        return _render(request, principal, workspace, form=form, status=exc.http_status)
    if not request.htmx:
        messages.success(request, f"Created label {label}.")
        return redirect("workspace:labels", slug=workspace.slug)
    return _render(request, principal, workspace, notice=f"Created label {label}.")


@login_required
@require_POST
def delete(request: HtmxHttpRequest, slug: str, key: str, value: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    label = Label.objects.filter(workspace=workspace, key=key, value=value).first()
    if label is None:
        raise Http404("label not found")
    try:
        service.do_delete_label(principal=principal, label=label)
    except SwitchyardError as exc:
        return _render(request, principal, workspace, error=exc.message, status=exc.http_status)
    if not request.htmx:
        messages.success(request, f"Deleted label {label}.")
        return redirect("workspace:labels", slug=workspace.slug)
    return _render(request, principal, workspace, notice=f"Deleted label {label}.")
