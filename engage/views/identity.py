"""A space's Identity resolution settings page: the identifiers in priority order
with their limits and blocked values; editing one, adding and removing custom
identifiers, and importing another space's settings.

Whoever sees the space (and Identity Admins) reads the page; the forms are for
those who may edit (the service decides, and a refusal is the 403 page). Every
change applies only to data that arrives afterwards.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from engage.forms.identity import CustomIdentifierForm, IdentifierForm, ImportForm
from engage.models import IdentifierSetting, Space
from engage.services import identity_settings as service
from switchyard.errors import NotFound, PermissionDenied, SwitchyardError
from switchyard.ui import UIRequest, add_service_error, refuse, workspace_view
from workspace.models import Workspace

NAV = "engage-spaces"


def _space(request: UIRequest, workspace: Workspace, slug: str) -> Space:
    return service.visible_space(request.principal, workspace, slug)


def _setting(space: Space, type: str) -> IdentifierSetting:
    found = next((row for row in service.settings_of(space) if row.type == type), None)
    if found is None:
        raise NotFound(f"identifier {type!r} not found")
    return found


def _import_form(request: UIRequest, space: Space, data: Any = None) -> ImportForm:
    choices = [
        (s.slug, s.display_name) for s in service.importable_spaces(request.principal, space)
    ]
    return ImportForm(data, spaces=choices)


def _page(
    request: UIRequest,
    workspace: Workspace,
    space: Space,
    *,
    form: CustomIdentifierForm | None = None,
    import_form: ImportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "workspace": workspace,
        "space": space,
        "nav": NAV,
        "rows": service.settings_of(space),
        "can_edit": service.can(request.principal, "change", space),
        "form": form or CustomIdentifierForm.blank(),
        "import_form": import_form or _import_form(request, space),
    }
    return render(request, "engage/identity.html", context, status=status)


def _refused(exc: SwitchyardError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        refuse(exc)


@workspace_view()
@require_http_methods(["GET", "POST"])
def identity(request: UIRequest, workspace: Workspace, space: str) -> HttpResponse:
    found = _space(request, workspace, space)
    if request.method != "POST":
        return _page(request, workspace, found)
    form = CustomIdentifierForm(request.POST)
    if not form.is_valid():
        return _page(request, workspace, found, form=form, status=400)
    try:
        added = service.do_add_custom_identifier(
            principal=request.principal,
            space=found,
            type=form.cleaned_data["type"],
            limit=form.cleaned_data["limit"],
            period=form.cleaned_data["period"],
            blocked_values=form.blocked_values(),
            priority=form.cleaned_data["priority"],
        )
    except SwitchyardError as exc:
        _refused(exc)
        add_service_error(form, exc)
        return _page(request, workspace, found, form=form, status=exc.http_status)
    messages.success(request, f"Added identifier {added.type}. It applies to new data only.")
    return redirect("engage:identity", slug=workspace.slug, space=found.slug)


@workspace_view()
@require_http_methods(["GET", "POST"])
def identifier(request: UIRequest, workspace: Workspace, space: str, type: str) -> HttpResponse:
    found = _space(request, workspace, space)
    setting = _setting(found, type)
    form = IdentifierForm.for_setting(setting)
    status = 200
    if request.method == "POST":
        form = IdentifierForm(request.POST)
        if form.is_valid():
            try:
                service.do_update_identifier(
                    principal=request.principal, setting=setting, changes=form.changes()
                )
            except SwitchyardError as exc:
                _refused(exc)
                add_service_error(form, exc, {"blocked_values": "exact"})
                status = exc.http_status
            else:
                messages.success(request, f"Saved {setting.type}. It applies to new data only.")
                return redirect("engage:identity", slug=workspace.slug, space=found.slug)
        else:
            status = 400
    context = {
        "workspace": workspace,
        "space": found,
        "nav": NAV,
        "setting": setting,
        "form": form,
        "can_edit": service.can(request.principal, "change", found),
        "count": len(service.settings_of(found)),
    }
    return render(request, "engage/identity_edit.html", context, status=status)


@workspace_view()
@require_POST
def remove(request: UIRequest, workspace: Workspace, space: str, type: str) -> HttpResponse:
    found = _space(request, workspace, space)
    setting = _setting(found, type)
    try:
        service.do_remove_custom_identifier(principal=request.principal, setting=setting)
    except SwitchyardError as exc:
        _refused(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Removed identifier {setting.type}.")
    return redirect("engage:identity", slug=workspace.slug, space=found.slug)


@workspace_view()
@require_POST
def import_settings(request: UIRequest, workspace: Workspace, space: str) -> HttpResponse:
    found = _space(request, workspace, space)
    form = _import_form(request, found, request.POST)
    if not form.is_valid():
        return _page(request, workspace, found, import_form=form, status=400)
    try:
        source = service.visible_space(
            request.principal, workspace, form.cleaned_data["from_space"]
        )
        service.do_import_identity_settings(
            principal=request.principal, from_space=source, to_space=found
        )
    except SwitchyardError as exc:
        _refused(exc)
        add_service_error(form, exc)
        return _page(request, workspace, found, import_form=form, status=exc.http_status)
    messages.success(
        request, f"Imported the identity resolution settings of {source.display_name}."
    )
    return redirect("engage:identity", slug=workspace.slug, space=found.slug)
