"""Workspace pages: parse the form, call the service, render. Nothing else."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, signed_in_view, workspace_view
from workspace.forms import WorkspaceCreateForm, WorkspaceDeleteForm, WorkspaceRenameForm
from workspace.models import Workspace
from workspace.selectors import recent_activity, visible_workspaces
from workspace.services import grant_reach
from workspace.services import workspaces as service

# The API names the workspace by ``name``; the form asks for its slug.
_FORM_FIELDS = {"name": "slug"}


@signed_in_view
def index(request: UIRequest) -> HttpResponse:
    first = visible_workspaces(request.principal).order_by("display_name", "slug").first()
    if first is None:
        return redirect("workspace:create")
    return redirect("workspace:home", slug=first.slug)


@signed_in_view
def workspace_list(request: UIRequest) -> HttpResponse:
    rows = visible_workspaces(request.principal).order_by("display_name", "slug")
    return render(request, "workspace/list.html", {"rows": rows})


@signed_in_view
@require_http_methods(["GET", "POST"])
def create(request: UIRequest) -> HttpResponse:
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = service.do_create_workspace(
                principal=request.principal,
                slug=form.cleaned_data["slug"],
                display_name=form.cleaned_data["display_name"],
            )
        except SwitchyardError as exc:
            add_service_error(form, exc, _FORM_FIELDS)
        else:
            messages.success(request, f"Created workspace {workspace.display_name}.")
            return redirect("workspace:home", slug=workspace.slug)
    return render(request, "workspace/create.html", {"form": form})


@workspace_view()
def home(request: UIRequest, workspace: Workspace) -> HttpResponse:
    user = request.principal.signed_in_user
    membership = workspace.memberships.filter(user=user).first()
    context = {
        "workspace": workspace,
        "member_count": workspace.memberships.count(),
        "activity": recent_activity(request.principal, workspace),
        "nav": "home",
        # "Your access": the roles by name, and what each reaches.
        "membership": membership,
        "my_grants": grant_reach.member_grants(workspace, user) if membership else [],
    }
    return render(request, "workspace/home.html", context)


@workspace_view()
@require_http_methods(["GET", "POST"])
def settings_general(request: UIRequest, workspace: Workspace) -> HttpResponse:
    rename = WorkspaceRenameForm(
        request.POST or None, initial={"display_name": workspace.display_name}
    )
    saved = False
    if request.method == "POST" and rename.is_valid():
        try:
            workspace = service.do_update_workspace(
                principal=request.principal,
                workspace=workspace,
                changes={"display_name": rename.cleaned_data["display_name"]},
            )
        except SwitchyardError as exc:
            add_service_error(rename, exc, _FORM_FIELDS)
        else:
            saved = True
            if not request.htmx:
                messages.success(request, "Workspace renamed.")
                return redirect("workspace:settings", slug=workspace.slug)
    context = _settings_context(
        request, workspace, rename, WorkspaceDeleteForm(slug=workspace.slug), saved=saved
    )
    if request.htmx:
        return render(request, "workspace/_rename_card.html", context)
    return render(request, "workspace/settings.html", context)


@workspace_view()
@require_POST
def delete(request: UIRequest, workspace: Workspace) -> HttpResponse:
    form = WorkspaceDeleteForm(request.POST, slug=workspace.slug)
    if form.is_valid():
        try:
            service.do_delete_workspace(principal=request.principal, workspace=workspace)
        except SwitchyardError as exc:
            add_service_error(form, exc, _FORM_FIELDS)
        else:
            messages.success(request, f"Deleted workspace {workspace.display_name}.")
            return redirect("workspace:index")
    rename = WorkspaceRenameForm(initial={"display_name": workspace.display_name})
    context = _settings_context(request, workspace, rename, form)
    return render(request, "workspace/settings.html", context, status=400)


def _settings_context(
    request: UIRequest,
    workspace: Workspace,
    rename: WorkspaceRenameForm,
    delete: WorkspaceDeleteForm,
    saved: bool = False,
) -> dict[str, Any]:
    return {
        "workspace": workspace,
        "rename": rename,
        "delete": delete,
        "saved": saved,
        "nav": "settings",
        # Members see the settings read-only: no form they would only learn they
        # may not use after submitting it.
        "can_change": access.can(request.principal, "change", workspace),
        "can_delete": access.can(request.principal, "delete", workspace),
    }
