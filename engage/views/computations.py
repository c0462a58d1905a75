"""Engage > Audiences and Engage > Computed Traits: the list of a space's audiences
(or traits) with size, status, compute mode, folder and last computed, filtered by
folder and searched by name; folders (create, edit, disband) and moving audiences to
a folder in bulk. Readers of the space see the pages; writes need "change" on the
space (Engage Users, Unify and Engage Admins, owners), checked again by the services."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from engage import computation_selectors as selectors
from engage.models import Space
from engage.models.computation_folders import ComputationFolder
from engage.services import computation_folders as folder_service
from engage.views.computation_pages import FOLDER, KINDS, MODES, NAV, REFUSAL, attempt
from engage.views.space_pages import SPACE
from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, refuse, workspace_view
from workspace.models import Workspace

NO_FOLDER = "-"  # the filter value for "in no folder"


class FolderForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


@workspace_view(SPACE, post="change", refusal=REFUSAL)
@require_http_methods(["GET", "POST"])
def computation_list(
    request: UIRequest, workspace: Workspace, space: Space, kind: str
) -> HttpResponse:
    k = KINDS[kind]  # type: ignore[index]
    folder_form = FolderForm(prefix="folder")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "create-folder":
            folder_form = FolderForm(request.POST, prefix="folder")
            if folder_form.is_valid():
                try:
                    folder_service.do_create_folder(
                        principal=request.principal,
                        space=space,
                        kind=kind,
                        name=folder_form.cleaned_data["name"],
                        description=folder_form.cleaned_data["description"],
                    )
                except SwitchyardError as exc:
                    refuse(exc)
                    add_service_error(folder_form, exc)
                else:
                    return redirect(k.name("list"), workspace.slug, space.slug)
            status = 400
        elif action == "move":
            target = request.POST.get("folder", "")
            attempt(
                request,
                lambda: folder_service.do_move_to_folder(
                    principal=request.principal,
                    space=space,
                    kind=kind,
                    keys=request.POST.getlist("keys"),
                    folder="" if target == NO_FOLDER else target,
                ),
                lambda n: f"Moved {n} {k.plural if n != 1 else k.noun}.",
            )
            return redirect(k.name("list"), workspace.slug, space.slug)
    chosen = request.GET.get("folder", "")
    query = request.GET.get("q", "")[: selectors.SEARCH_MAX]
    folder = None if not chosen else ("" if chosen == NO_FOLDER else chosen)
    rows = list(selectors.computations(space, kind, folder=folder, query=query))
    context = {
        "workspace": workspace,
        "space": space,
        "nav": NAV,
        "tab": k.collection,
        "k": k,
        "rows": rows,
        "modes": MODES,
        "folders": folder_service.folders_of(space, kind),
        "counts": selectors.folder_counts(space, kind),
        "chosen_folder": chosen,
        "no_folder": NO_FOLDER,
        "query": query,
        "can_write": access.can(request.principal, "change", space),
        "folder_form": folder_form,
    }
    return render(request, "engage/computations.html", context, status=status)


@workspace_view(FOLDER, post="change")
@require_http_methods(["GET", "POST"])
def folder_page(
    request: UIRequest, workspace: Workspace, folder: ComputationFolder
) -> HttpResponse:
    k = KINDS[folder.kind]  # type: ignore[index]
    space = folder.space
    form = FolderForm(initial={"name": folder.name, "description": folder.description})
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "disband":
            attempt(
                request,
                lambda: folder_service.do_disband_folder(
                    principal=request.principal, folder=folder
                ),
                lambda n: (
                    f"Disbanded the folder {folder.name}; its {n} "
                    f"{k.plural if n != 1 else k.noun} stay, in no folder."
                ),
            )
            return redirect(k.name("list"), workspace.slug, space.slug)
        form = FolderForm(request.POST)
        if form.is_valid():
            try:
                folder_service.do_update_folder(
                    principal=request.principal, folder=folder, changes=form.cleaned_data
                )
            except SwitchyardError as exc:
                refuse(exc)
                add_service_error(form, exc)
            else:
                return redirect(k.name("list"), workspace.slug, space.slug)
        status = 400
    context = {
        "workspace": workspace,
        "space": space,
        "nav": NAV,
        "tab": k.collection,
        "k": k,
        "folder": folder,
        "form": form,
        "members": selectors.computations(space, folder.kind, folder=folder.name),
        "can_write": access.can(request.principal, "change", space),
    }
    return render(request, "engage/computation_folder.html", context, status=status)
