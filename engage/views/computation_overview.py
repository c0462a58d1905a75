"""An audience's or computed trait's overview: definition (its text form), status,
size and size over time, run history, members explorer, destinations (a fragment
loaded from the destinations pages), CSV export; and its actions: Refresh (compute
now), enable / disable, clone, delete. Writes need "change" on the space."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engage import computation_selectors as selectors
from engage import definitions
from engage.explorer_selectors import identifier_types
from engage.models import (
    Computation,
    ComputationExport,
    ComputationKind,
    ExportFormat,
    ExportStatus,
    Space,
)
from engage.services import computation_clone as clone_service
from engage.services import computation_exports as export_service
from engage.services import computations as service
from engage.views.computation_pages import COMPUTATION, KINDS, MODES, NAV, Kind, attempt
from switchyard import access, masking
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, refuse, workspace_view
from switchyard.ui.charts import BLUE, Series, stacked_bars
from workspace.models import Workspace


class CloneForm(forms.Form):
    display_name = forms.CharField(max_length=200, label="Name")
    key = forms.CharField(
        max_length=255, required=False, help_text="snake_case; by default the name snake-cased"
    )
    space = forms.ChoiceField(label="Space")


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            (ExportFormat.FORMATTED, "Formatted (a column per external id and trait)"),
            (ExportFormat.UNFORMATTED, "Unformatted (segment_id, external ids JSON, traits JSON)"),
        ],
        widget=forms.RadioSelect,
        initial=ExportFormat.FORMATTED,
    )
    identifiers = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="External IDs"
    )
    traits = forms.CharField(
        required=False,
        max_length=5000,
        label="Traits",
        help_text="Custom or computed trait keys, separated by commas",
    )


def _clone_form(request: UIRequest, computation: Computation, data: Any = None) -> CloneForm:
    form = CloneForm(data, initial={"space": computation.space.slug})
    targets = clone_service.clone_targets(request.principal, computation)
    cast(forms.ChoiceField, form.fields["space"]).choices = [
        (s.slug, s.display_name) for s in targets
    ]
    return form


def _export_form(space: Space, data: Any = None) -> ExportForm:
    form = ExportForm(data)
    cast(forms.ChoiceField, form.fields["identifiers"]).choices = [
        (t, t) for t in identifier_types(space)
    ]
    return form


def _definition_text(computation: Computation) -> str:
    try:
        if computation.kind == ComputationKind.AUDIENCE:
            return definitions.to_text(computation.definition)
        return definitions.trait_to_text(computation.definition)
    except (KeyError, TypeError, ValueError):
        # Not expressible as text: the JSON is shown.
        return json.dumps(computation.definition, indent=2, sort_keys=True)


def _history_chart(computation: Computation) -> Any:
    history = selectors.size_history(computation)
    return stacked_bars(
        f"size-{computation.key_id}",
        f"{computation.display_name}: size at the end of each day (UTC)",
        [day.strftime("%b %d") for day, _ in history],
        [Series("Size", [size for _, size in history], BLUE)],
    )


def _page(
    request: UIRequest,
    workspace: Workspace,
    computation: Computation,
    *,
    clone_form: CloneForm | None = None,
    export_form: ExportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    k: Kind = KINDS[computation.kind]  # type: ignore[index]
    space = computation.space
    mask = masking.mask_for(request.principal, workspace.pk)
    can_write = access.can(request.principal, "change", computation)
    context = {
        "workspace": workspace,
        "space": space,
        "nav": NAV,
        "tab": k.collection,
        "k": k,
        "computation": computation,
        "modes": MODES,
        "definition_text": _definition_text(computation),
        "chart": _history_chart(computation),
        "runs": selectors.runs(computation),
        "pending": service.pending_run(computation),
        "members": selectors.members_page(computation, mask),
        "can_write": can_write,
        "clone_form": clone_form or _clone_form(request, computation),
        "export_form": export_form or _export_form(space),
        "exports": _exports(request, computation),
    }
    return render(request, "engage/computation.html", context, status=status)


def _exports(request: UIRequest, computation: Computation) -> list[dict[str, Any]]:
    return [
        {"export": e, "download": export_service.downloadable(request.principal, e)}
        for e in export_service.recent_exports(computation)
    ]


@workspace_view(COMPUTATION)
@require_GET
def overview(request: UIRequest, workspace: Workspace, computation: Computation) -> HttpResponse:
    if request.htmx and request.GET.get("part") == "status":
        # Polled while it computes: the status badge, size and pending run.
        context = {
            "workspace": workspace,
            "space": computation.space,
            "k": KINDS[computation.kind],  # type: ignore[index]
            "computation": computation,
            "pending": service.pending_run(computation),
        }
        return render(request, "engage/_computation_live.html", context)
    return _page(request, workspace, computation)


@workspace_view(COMPUTATION)
@require_GET
def members(request: UIRequest, workspace: Workspace, computation: Computation) -> HttpResponse:
    """A page of members (htmx: the table's rows and the next page's link)."""
    try:
        after = max(int(request.GET.get("after", "0")), 0)
    except ValueError:
        after = 0
    mask = masking.mask_for(request.principal, workspace.pk)
    context = {
        "workspace": workspace,
        "space": computation.space,
        "k": KINDS[computation.kind],  # type: ignore[index]
        "computation": computation,
        "members": selectors.members_page(computation, mask, after=after),
    }
    return render(request, "engage/_computation_members.html", context)


def _back(workspace: Workspace, computation: Computation) -> HttpResponse:
    k = KINDS[computation.kind]  # type: ignore[index]
    return redirect(k.name("overview"), workspace.slug, computation.space.slug, computation.key)


@workspace_view(COMPUTATION, action="change")
@require_POST
def refresh(request: UIRequest, workspace: Workspace, computation: Computation) -> HttpResponse:
    attempt(
        request,
        lambda: service.do_request_run(principal=request.principal, computation=computation),
        "A compute run is queued; the status and run history show its progress.",
    )
    return _back(workspace, computation)


@workspace_view(COMPUTATION, action="change")
@require_POST
def enabled(request: UIRequest, workspace: Workspace, computation: Computation) -> HttpResponse:
    wanted = request.POST.get("enabled") == "true"
    attempt(
        request,
        lambda: service.do_update_computation(
            principal=request.principal, computation=computation, changes={"enabled": wanted}
        ),
        "Enabled: a compute run is queued." if wanted else "Disabled: it is no longer computed.",
    )
    return _back(workspace, computation)


@workspace_view(COMPUTATION, action="change")
@require_POST
def delete(request: UIRequest, workspace: Workspace, computation: Computation) -> HttpResponse:
    k = KINDS[computation.kind]  # type: ignore[index]
    if request.POST.get("confirm") != computation.key:
        messages.error(request, f"Type the key {computation.key} to confirm the deletion.")
        return _back(workspace, computation)
    deleted = attempt(
        request,
        lambda: service.do_delete_computation(principal=request.principal, computation=computation),
        f"Deleted {computation.display_name}. Its key {computation.key} stays on profiles as a "
        "custom trait and cannot be used again in this space.",
    )
    if not deleted:
        return _back(workspace, computation)
    return redirect(k.name("list"), workspace.slug, computation.space.slug)


@workspace_view(COMPUTATION, action="view")
@require_POST
def clone(request: UIRequest, workspace: Workspace, computation: Computation) -> HttpResponse:
    """Clone into the same space or another space of the workspace the principal
    may build in (the service checks "change" on the target space)."""
    form = _clone_form(request, computation, request.POST)
    if form.is_valid():
        target = clone_service.clone_targets(request.principal, computation).filter(
            slug=form.cleaned_data["space"]
        )
        try:
            created = clone_service.do_clone_computation(
                principal=request.principal,
                computation=computation,
                space=target.get(),
                display_name=form.cleaned_data["display_name"],
                key=form.cleaned_data["key"] or None,
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc)
        else:
            k = KINDS[created.kind]  # type: ignore[index]
            messages.success(request, f"Created {created.display_name}, a clone.")
            return redirect(k.name("overview"), workspace.slug, created.space.slug, created.key)
    return _page(request, workspace, computation, clone_form=form, status=400)


@workspace_view(COMPUTATION, post="change")
@require_http_methods(["GET", "POST"])
def exports(request: UIRequest, workspace: Workspace, computation: Computation) -> HttpResponse:
    """GET: the recent exports with their progress (polled by htmx while one runs);
    POST: ask for a CSV of the current members."""
    if request.method == "GET":
        context = {
            "workspace": workspace,
            "space": computation.space,
            "k": KINDS[computation.kind],  # type: ignore[index]
            "computation": computation,
            "exports": _exports(request, computation),
        }
        return render(request, "engage/_computation_exports.html", context)
    form = _export_form(computation.space, request.POST)
    if form.is_valid():
        traits = [t for t in form.cleaned_data["traits"].split(",") if t.strip()]
        try:
            export_service.do_request_export(
                principal=request.principal,
                computation=computation,
                format=form.cleaned_data["format"],
                identifiers=form.cleaned_data["identifiers"],
                traits=traits,
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc)
        else:
            messages.success(request, "The CSV is being prepared; its progress shows below.")
            return _back(workspace, computation)
    return _page(request, workspace, computation, export_form=form, status=400)


@workspace_view(COMPUTATION)
@require_GET
def export_download(
    request: UIRequest, workspace: Workspace, computation: Computation, export: str
) -> HttpResponse:
    found = ComputationExport.objects.filter(computation=computation, key_id=export).first()
    if found is None or found.status != ExportStatus.READY:
        raise Http404("No such export ready.")
    if not export_service.downloadable(request.principal, found):
        raise PermissionDenied(
            "Only the person who asked for this export downloads it (it was built through "
            "their PII access)."
        )
    response = HttpResponse(found.content, content_type="text/csv; charset=utf-8")
    name = f"{computation.key}-{found.create_time:%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
