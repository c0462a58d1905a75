"""The destinations fragment of an audience's or computed trait's overview (loaded
by htmx on load): the connected destinations with their sync status, a form to
connect one of the workspace's destinations, and Disconnect. Its forms post
with htmx and get the fragment back; without htmx they go back to the overview.
Reading needs "view" on the computation, writes "change" (as editing it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from engage.models import Computation, ComputationDestination, ComputationKind, SyncState
from engage.services import computation_destinations as service
from engage.services import computations as computation_service
from engage.views.computation_pages import KINDS, REFUSAL
from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import Lookup, UIRequest, refuse, workspace_view
from workspace.models import Workspace

BUSY = (SyncState.PENDING, SyncState.SYNCING)


def _computation(workspace: Workspace, space: str, key: str) -> QuerySet[Computation]:
    return Computation.objects.filter(
        space__workspace=workspace, space__slug=space, key=key
    ).select_related("space__workspace")


COMPUTATION = Lookup(
    arg="computation", url_kwargs=("space", "key"), find=_computation, refusal=REFUSAL
)


class ConnectForm(forms.Form):
    destination = forms.ChoiceField(label="Destination")
    send_identify = forms.BooleanField(required=False, initial=True, label="Send Identify")
    send_track = forms.BooleanField(required=False, label="Send Track")
    include_anonymous = forms.BooleanField(required=False, label="Include anonymous users")


def _form(request: UIRequest, computation: Computation, data: Any = None) -> ConnectForm:
    form = ConnectForm(data)
    choices = service.connectable(request.principal, computation)
    form.fields["destination"].choices = [  # type: ignore[attr-defined]
        (d.key_id, f"{d.display_name} ({d.source.display_name})") for d in choices
    ]
    return form


def _fragment(
    request: UIRequest,
    workspace: Workspace,
    computation: Computation,
    form: ConnectForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    rows = list(
        ComputationDestination.objects.filter(computation=computation)
        .select_related("destination__source")
        .order_by("create_time", "pk")
    )
    can_write = access.can(request.principal, "change", computation)
    context = {
        "workspace": workspace,
        "space": computation.space,
        "computation": computation,
        "audience": computation.kind == ComputationKind.AUDIENCE,
        "connections": rows,
        "busy": any(c.sync_state in BUSY for c in rows),
        "can_write": can_write,
        "form": (form or _form(request, computation)) if can_write else None,
        "error": error,
    }
    return render(request, "engage/_computation_destinations.html", context, status=status)


def _done(
    request: UIRequest, workspace: Workspace, computation: Computation, **extra: Any
) -> HttpResponse:
    if request.htmx:
        return _fragment(request, workspace, computation, **extra)
    k = KINDS[ComputationKind(computation.kind)]
    return redirect(k.name("overview"), workspace.slug, computation.space.slug, computation.key)


@workspace_view(COMPUTATION, post="change")
@require_http_methods(["GET", "POST"])
def destinations(
    request: UIRequest, workspace: Workspace, computation: Computation
) -> HttpResponse:
    """GET: the fragment (polled by htmx while a sync is pending); POST: connect."""
    if request.method == "GET":
        return _fragment(request, workspace, computation)
    form = _form(request, computation, request.POST)
    if not form.is_valid():
        return _fragment(request, workspace, computation, form=form, status=400)
    settings = {
        "send_identify": form.cleaned_data["send_identify"],
        "send_track": form.cleaned_data["send_track"],
        "include_anonymous": form.cleaned_data["include_anonymous"],
    }
    try:
        service.do_connect_destination(
            principal=request.principal,
            computation=computation,
            destination=form.cleaned_data["destination"],
            settings=settings,
        )
    except SwitchyardError as exc:
        refuse(exc)
        return _fragment(request, workspace, computation, form=form, error=exc.message, status=400)
    return _done(request, workspace, computation)


@workspace_view(COMPUTATION, action="change")
@require_POST
def disconnect(
    request: UIRequest, workspace: Workspace, computation: Computation, destination: str
) -> HttpResponse:
    connection = (
        ComputationDestination.objects.filter(
            computation=computation, destination__key_id=destination
        )
        .select_related("computation__space__workspace", "destination")
        .first()
    )
    if connection is not None:
        try:
            service.do_disconnect_destination(principal=request.principal, connection=connection)
        except SwitchyardError as exc:
            refuse(exc)
            return _fragment(request, workspace, computation, error=exc.message, status=400)
    return _done(request, workspace, computation)


@workspace_view(COMPUTATION, action="change")
@require_POST
def compute_without(
    request: UIRequest, workspace: Workspace, computation: Computation
) -> HttpResponse:
    """The batch setting "Compute without connected destinations" (§5.5): a checkbox
    posted as it is (absent: off)."""
    wanted = request.POST.get("compute_without_destinations") == "on"
    try:
        computation = computation_service.do_update_computation(
            principal=request.principal,
            computation=computation,
            changes={"compute_without_destinations": wanted},
        )
    except SwitchyardError as exc:
        refuse(exc)
        return _fragment(request, workspace, computation, error=exc.message, status=400)
    return _done(request, workspace, computation)
