from __future__ import annotations

from django.db import models
from django.http import Http404

from workspace import access
from workspace.access import Principal
from workspace.models import AuditEntry, Workspace


def visible_workspaces(principal: Principal) -> models.QuerySet[Workspace]:
    return access.restrict(Workspace.objects.all(), principal, "view")


def workspace_for(principal: Principal, slug: str) -> Workspace:
    """The workspace if the principal may see it; 404 otherwise (never reveal existence)."""
    workspace = visible_workspaces(principal).filter(slug=slug).first()
    if workspace is None:
        raise Http404("workspace not found")
    return workspace


def recent_activity(workspace: Workspace, limit: int = 10) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(workspace=workspace)
        .select_related("actor_user", "actor_token")
        .order_by("-time", "-id")[:limit]
    )
