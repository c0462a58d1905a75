"""Workspace pages: parse the form, call the service, render. Nothing else."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from switchyard.access import Principal
from switchyard.errors import SwitchyardError
from workspace.forms import WorkspaceCreateForm, WorkspaceDeleteForm, WorkspaceRenameForm
from workspace.selectors import recent_activity, visible_workspaces, workspace_for
from workspace.services import workspaces as service
from workspace.views.base import HtmxHttpRequest, attach_error

_FORM_FIELD = {"name": "slug"}


def _attach(form: forms.Form, exc: SwitchyardError) -> None:
    attach_error(form, exc, _FORM_FIELD)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    first = visible_workspaces(Principal(request.user)).order_by("display_name", "slug").first()
    if first is None:
        return redirect("workspace:create")
    return redirect("workspace:home", slug=first.slug)


@login_required
def workspace_list(request: HttpRequest) -> HttpResponse:
    rows = visible_workspaces(Principal(request.user)).order_by("display_name", "slug")
    return render(request, "workspace/list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = service.do_create_workspace(
                principal=Principal(request.user),
                slug=form.cleaned_data["slug"],
                display_name=form.cleaned_data["display_name"],
            )
        except SwitchyardError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Created workspace {workspace.display_name}.")
            return redirect("workspace:home", slug=workspace.slug)
    return render(request, "workspace/create.html", {"form": form})


@login_required
def home(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = workspace_for(Principal(request.user), slug)
    context = {
        "workspace": workspace,
        "member_count": workspace.memberships.count(),
        "activity": recent_activity(workspace),
        "nav": "home",
    }
    return render(request, "workspace/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def settings_general(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    rename = WorkspaceRenameForm(
        request.POST or None, initial={"display_name": workspace.display_name}
    )
    saved = False
    if request.method == "POST" and rename.is_valid():
        try:
            workspace = service.do_update_workspace(
                principal=principal,
                workspace=workspace,
                changes={"display_name": rename.cleaned_data["display_name"]},
            )
        except SwitchyardError as exc:
            _attach(rename, exc)
        else:
            saved = True
            if not request.htmx:
                messages.success(request, "Workspace renamed.")
                return redirect("workspace:settings", slug=workspace.slug)
    context = {
        "workspace": workspace,
        "rename": rename,
        "saved": saved,
        "nav": "settings",
        "delete": WorkspaceDeleteForm(slug=workspace.slug),
    }
    if request.htmx:
        return render(request, "workspace/_rename_card.html", context)
    return render(request, "workspace/settings.html", context)


@login_required
@require_POST
def delete(request: HttpRequest, slug: str) -> HttpResponse:
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    form = WorkspaceDeleteForm(request.POST, slug=workspace.slug)
    if form.is_valid():
        try:
            service.do_delete_workspace(principal=principal, workspace=workspace)
        except SwitchyardError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Deleted workspace {workspace.display_name}.")
            return redirect("workspace:index")
    context = {
        "workspace": workspace,
        "rename": WorkspaceRenameForm(initial={"display_name": workspace.display_name}),
        "delete": form,
        "nav": "settings",
    }
    return render(request, "workspace/settings.html", context, status=400)
