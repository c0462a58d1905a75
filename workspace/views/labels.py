"""Settings > Labels: the catalogue grouped by key; owners create and delete labels.

htmx posts swap the catalogue in place; without JavaScript the forms post,
redirect on success and show the page with the error otherwise.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import Lookup, UIRequest, add_service_error, workspace_view
from workspace.forms import LabelCreateForm
from workspace.models import Label, Workspace
from workspace.services import labels as service


def _label_in(workspace: Workspace, key: str, value: str) -> models.QuerySet[Label]:
    return Label.objects.filter(workspace=workspace, key=key, value=value)


LABEL = Lookup(arg="label", url_kwargs=("key", "value"), find=_label_in)


def _render(
    request: UIRequest,
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
        "can_administer": access.can(request.principal, "administer", workspace),
        "form": form or LabelCreateForm(),
        **extra,
    }
    if request.htmx:  # the catalogue alone; 200 whatever happened, or htmx would not swap it
        return render(request, "workspace/_label_catalogue.html", context)
    return render(request, "workspace/labels.html", context, status=status)


@workspace_view()
@require_http_methods(["GET", "POST"])
def labels(request: UIRequest, workspace: Workspace) -> HttpResponse:
    if request.method != "POST":
        return _render(request, workspace)
    form = LabelCreateForm(request.POST)
    if not form.is_valid():
        return _render(request, workspace, form=form, status=400)
    try:
        label = service.do_create_label(
            principal=request.principal,
            workspace=workspace,
            key=form.cleaned_data["key"],
            value=form.cleaned_data["value"],
            description=form.cleaned_data["description"],
        )
    except SwitchyardError as exc:
        add_service_error(form, exc)
        return _render(request, workspace, form=form, status=exc.http_status)
    if not request.htmx:
        messages.success(request, f"Created label {label}.")
        return redirect("workspace:labels", slug=workspace.slug)
    return _render(request, workspace, notice=f"Created label {label}.")


# Members see the catalogue, so they reach the delete button's answer: the
# service refuses them in the page (owners manage labels).
@workspace_view(LABEL)
@require_POST
def delete(request: UIRequest, workspace: Workspace, label: Label) -> HttpResponse:
    try:
        service.do_delete_label(principal=request.principal, label=label)
    except SwitchyardError as exc:
        return _render(request, workspace, error=exc.message, status=exc.http_status)
    if not request.htmx:
        messages.success(request, f"Deleted label {label}.")
        return redirect("workspace:labels", slug=workspace.slug)
    return _render(request, workspace, notice=f"Deleted label {label}.")
