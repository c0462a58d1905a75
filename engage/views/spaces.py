"""Engage > Spaces: the list (with a Dev/Prod start for a workspace that has none),
the create form, and a space's settings page: name, labels and connection policy,
connected sources, Profile API access tokens, and deletion with its grace period.

Write controls show only to those the services would let through: creating needs
Workspace Owner or Unify and Engage Admin on all spaces, settings need Unify and
Engage Admin on the space, deletion needs Workspace Owner. Plain forms that
redirect on success (post/redirect/get), except token creation, which shows the
secret once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from connections.models import Source
from engage.models import Space, SpaceSource, SpaceToken
from engage.services import space_sources as source_service
from engage.services import spaces as service
from engage.services import tokens as token_service
from engage.views.space_forms import (
    ConnectSourceForm,
    DeleteSpaceForm,
    SpaceCreateForm,
    SpaceSettingsForm,
    TokenForm,
)
from switchyard import access
from switchyard.errors import NotFound, PermissionDenied, SwitchyardError
from switchyard.ui import Lookup, UIRequest, add_service_error, refuse, workspace_view
from workspace.models import Workspace

NAV = "engage-spaces"
EDITORS = "Editing a space's settings needs Workspace Owner or Unify and Engage Admin on the space."
# Segment recommends a Dev space first, then an identical Prod space.
STARTERS = {
    "dev": ("Dev", "environment:dev"),
    "prod": ("Prod", "environment:prod"),
}


def _space(workspace: Workspace, space: str) -> QuerySet[Space]:
    return Space.objects.filter(workspace=workspace, slug=space).select_related("workspace")


SPACE = Lookup(arg="space", url_kwargs=("space",), find=_space)


def _attempt(request: UIRequest, write: Callable[[], Any], done: str) -> bool:
    """Run a service write: a refusal is the 403/404 page, other errors a message."""
    try:
        write()
    except SwitchyardError as exc:
        refuse(exc)
        messages.error(request, exc.message)
        return False
    messages.success(request, done)
    return True


@workspace_view()
@require_http_methods(["GET", "POST"])
def spaces(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """The list; POST ``starter=dev|prod`` creates a recommended space in one click."""
    if request.method == "POST":
        starter = STARTERS.get(request.POST.get("starter", ""))
        if starter is None:
            raise NotFound("unknown starter space")
        slug = request.POST["starter"]
        display_name, label = starter
        key, value = label.split(":")
        # A workspace may have deleted its default labels: then the space has none.
        labels = [label] if workspace.labels.filter(key=key, value=value).exists() else []
        created = _attempt(
            request,
            lambda: service.do_create_space(
                principal=request.principal,
                workspace=workspace,
                slug=slug,
                display_name=display_name,
                labels=labels,
                required_labels=labels,
            ),
            f"Created the space {display_name}.",
        )
        if created:
            return redirect("engage:space-settings", slug=workspace.slug, space=slug)
        return redirect("engage:spaces", slug=workspace.slug)
    rows = (
        access.restrict(Space.objects.filter(workspace=workspace), request.principal, "view")
        .prefetch_related("space_labels__label")
        .order_by("create_time", "pk")
    )
    context = {
        "workspace": workspace,
        "nav": NAV,
        "rows": rows,
        "can_create": access.can_create(request.principal, "space", workspace),
        "starters": STARTERS,
    }
    return render(request, "engage/spaces.html", context)


@workspace_view()
@require_http_methods(["GET", "POST"])
def create(request: UIRequest, workspace: Workspace) -> HttpResponse:
    if not access.can_create(request.principal, "space", workspace):
        refuse(
            PermissionDenied(
                "Creating spaces needs Workspace Owner or Unify and Engage Admin on all spaces."
            )
        )
    form = SpaceCreateForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            space = service.do_create_space(
                principal=request.principal,
                workspace=workspace,
                slug=data["slug"],
                display_name=data["display_name"],
                labels=data["labels"],
                required_labels=data["required_labels"],
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc, {"name": "slug"})
        else:
            messages.success(request, f"Created the space {space.display_name}.")
            return redirect("engage:space-settings", slug=workspace.slug, space=space.slug)
    context = {"workspace": workspace, "nav": NAV, "form": form}
    status = 400 if form.errors else 200
    return render(request, "engage/space_create.html", context, status=status)


def _connectable(request: UIRequest, space: Space) -> list[tuple[str, str]]:
    connected = SpaceSource.objects.filter(space=space).values("source_id")
    visible = access.restrict(
        Source.objects.filter(workspace=space.workspace), request.principal, "view"
    )
    rows = visible.exclude(pk__in=connected).order_by("display_name", "slug")
    return [(s.slug, f"{s.display_name} ({s.slug})") for s in rows]


def _settings_page(
    request: UIRequest,
    workspace: Workspace,
    space: Space,
    *,
    form: SpaceSettingsForm | None = None,
    secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    principal = request.principal
    fresh = Space.objects.prefetch_related("space_labels__label").get(pk=space.pk)
    connections = (
        SpaceSource.objects.filter(space=space)
        .select_related("source")
        .prefetch_related("source__labels")
        .order_by("create_time", "pk")
    )
    context = {
        "workspace": workspace,
        "nav": NAV,
        "space": fresh,
        "can_edit": service.can_edit_settings(principal, space),
        "is_owner": access.can(principal, "administer", workspace),
        "form": form
        or SpaceSettingsForm(
            initial={
                "display_name": fresh.display_name,
                "labels": fresh.label_names,
                "required_labels": fresh.required_labels,
            },
            workspace=workspace,
        ),
        "connections": [
            (row, source_service.policy_gaps(fresh, row.source)) for row in connections
        ],
        "connect_form": ConnectSourceForm(sources=_connectable(request, space)),
        "tokens": SpaceToken.objects.filter(space=space).order_by("-create_time", "-pk"),
        "token_form": TokenForm(),
        "delete_form": DeleteSpaceForm(),
        "secret": secret,
    }
    return render(request, "engage/space_settings.html", context, status=status)


@workspace_view(SPACE, post=service.SETTINGS_ACTION, refusal=EDITORS)
@require_http_methods(["GET", "POST"])
def settings(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    """GET the page; POST the general settings (name, labels, connection policy)."""
    if request.method == "GET":
        return _settings_page(request, workspace, space)
    form = SpaceSettingsForm(request.POST, workspace=workspace)
    if form.is_valid():
        try:
            service.do_update_space(
                principal=request.principal, space=space, changes=dict(form.cleaned_data)
            )
        except SwitchyardError as exc:
            refuse(exc)
            add_service_error(form, exc)
        else:
            messages.success(request, "Saved the space's settings.")
            return redirect("engage:space-settings", slug=workspace.slug, space=space.slug)
    return _settings_page(request, workspace, space, form=form, status=400)


def _back(workspace: Workspace, space: Space) -> HttpResponse:
    return redirect("engage:space-settings", slug=workspace.slug, space=space.slug)


@workspace_view(SPACE, post=service.SETTINGS_ACTION, refusal=EDITORS)
@require_POST
def connect_source(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    slug = request.POST.get("source", "")
    visible = access.restrict(Source.objects.filter(workspace=workspace), request.principal, "view")
    source = visible.filter(slug=slug).first()
    if source is None:
        messages.error(request, f"Source {slug!r} not found.")
        return _back(workspace, space)
    _attempt(
        request,
        lambda: source_service.do_connect_source(
            principal=request.principal,
            space=space,
            source=source,
            replay=request.POST.get("replay") == "on",
        ),
        f"Connected the source {source.display_name}.",
    )
    return _back(workspace, space)


@workspace_view(SPACE, post=service.SETTINGS_ACTION, refusal=EDITORS)
@require_POST
def disconnect_source(
    request: UIRequest, workspace: Workspace, space: Space, source: str
) -> HttpResponse:
    row = SpaceSource.objects.filter(space=space, source__slug=source).select_related(
        "source", "space__workspace"
    )
    connection = row.first()
    if connection is None:
        raise NotFound(f"source {source!r} is not connected")
    _attempt(
        request,
        lambda: source_service.do_disconnect_source(
            principal=request.principal, connection=connection
        ),
        f"Disconnected the source {connection.source.display_name}.",
    )
    return _back(workspace, space)


@workspace_view(SPACE, post=service.SETTINGS_ACTION, refusal=EDITORS)
@require_POST
def create_token(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    form = TokenForm(request.POST)
    description = form.cleaned_data["description"] if form.is_valid() else ""
    try:
        _token, secret = token_service.do_create_space_token(
            principal=request.principal, space=space, description=description
        )
    except SwitchyardError as exc:
        refuse(exc)
        messages.error(request, exc.message)
        return _back(workspace, space)
    return _settings_page(request, workspace, space, secret=secret)


@workspace_view(SPACE, post=service.SETTINGS_ACTION, refusal=EDITORS)
@require_POST
def revoke_token(request: UIRequest, workspace: Workspace, space: Space, pk: int) -> HttpResponse:
    token = SpaceToken.objects.filter(space=space, pk=pk).select_related("space__workspace").first()
    if token is None:
        raise NotFound("access token not found")
    _attempt(
        request,
        lambda: token_service.do_revoke_space_token(principal=request.principal, token=token),
        f"Revoked the access token {token.prefix}….",
    )
    return _back(workspace, space)


@workspace_view(SPACE)
@require_POST
def delete(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    form = DeleteSpaceForm(request.POST)
    typed = form.cleaned_data["confirm_name"].strip() if form.is_valid() else ""
    if typed != space.display_name:
        messages.error(
            request, f"Type the space's name, {space.display_name}, to confirm its deletion."
        )
        return _back(workspace, space)
    _attempt(
        request,
        lambda: service.do_request_space_deletion(principal=request.principal, space=space),
        f"Deletion of {space.display_name} requested: it is deleted in 5 days unless cancelled.",
    )
    return _back(workspace, space)


@workspace_view(SPACE)
@require_POST
def cancel_deletion(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    _attempt(
        request,
        lambda: service.do_cancel_space_deletion(principal=request.principal, space=space),
        f"Deletion of {space.display_name} cancelled.",
    )
    return _back(workspace, space)
