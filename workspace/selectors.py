from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.http import Http404

from switchyard import access
from switchyard.access import Principal, registry
from workspace.models import AccessToken, AuditEntry, Label, Membership, Workspace


def visible_workspaces(principal: Principal) -> models.QuerySet[Workspace]:
    return access.restrict(Workspace.objects.all(), principal, "view")


def workspace_for(principal: Principal, slug: str) -> Workspace:
    """The workspace if the principal may see it; 404 otherwise (never reveal existence)."""
    workspace = visible_workspaces(principal).filter(slug=slug).first()
    if workspace is None:
        raise Http404("workspace not found")
    return workspace


def personal_tokens(principal: Principal) -> models.QuerySet[AccessToken]:
    """The live personal tokens of the person asking (none for a workspace token):
    their account page and ``/v1beta/access-tokens``. Even a superuser sees only
    their own here."""
    if principal.workspace_token is not None:
        return AccessToken.objects.none()
    mine = AccessToken.objects.filter(
        workspace__isnull=True, revoke_time__isnull=True, user=principal.signed_in_user
    )
    return access.restrict(mine, principal, "view").select_related("user")


def audit_entries_for(workspace: Workspace) -> models.QuerySet[AuditEntry]:
    """The workspace's audit trail: its own entries and its members' sign-ins and
    token changes (which belong to no workspace)."""
    members = Membership.objects.filter(workspace=workspace).values("user_id")
    return AuditEntry.objects.filter(
        Q(workspace=workspace) | Q(workspace__isnull=True, actor_user_id__in=members)
    ).select_related("actor_user", "actor_token")


def audit_entries_under(
    workspace: Workspace, resource_name: str, *, since: Any
) -> models.QuerySet[AuditEntry]:
    """The workspace's entries since ``since`` about ``resource_name`` and the
    resources under it (``workspaces/w/spaces/s`` and ``.../spaces/s/identifiers/email``):
    one resource's own trail, as an app shows it beside the resource."""
    return (
        AuditEntry.objects.filter(workspace=workspace, time__gte=since)
        .filter(Q(resource_name=resource_name) | Q(resource_name__startswith=f"{resource_name}/"))
        .select_related("actor_user", "actor_token")
    )


PICK_LIST_MAX = 200


def audit_filter_choices(workspace: Workspace) -> dict[str, list[str]]:
    """The actions, resource types and actors this trail holds, for the filter form's
    pick lists (its filters match exactly)."""
    entries = audit_entries_for(workspace).order_by()
    choices = {
        field: list(
            entries.values_list(column, flat=True).distinct().order_by(column)[:PICK_LIST_MAX]
        )
        for field, column in (
            ("action", "action"),
            ("resource_type", "resource_type"),
            ("actor", "actor_user__username"),
        )
    }
    choices["actor"] = [name for name in choices["actor"] if name]
    return choices


def recent_activity(
    principal: Principal, workspace: Workspace, limit: int = 10
) -> list[AuditEntry]:
    """The Home page's activity: the audit trail is the owners', so others see none."""
    entries = access.restrict(audit_entries_for(workspace), principal, "view")
    return list(entries.order_by("-time", "-id")[:limit])


def label_usages(label: Label) -> list[str]:
    """Where ``label`` is in use, one human-readable place per item, e.g.
    ``source workspaces/acme/sources/js``; deleting a label in use is refused."""
    from workspace.models import RoleGrant

    places = []
    for kind in registry.resource_types():
        labelled = kind.labelled(label.pk).select_related("workspace").order_by("slug")
        places += [f"{kind.name} {r.resource_name}" for r in labelled]
    grants = RoleGrant.objects.filter(labels=label).select_related(
        "workspace", "user", "group", "token"
    )
    return places + [
        f"grant of {g.role} to {g.user or g.group or g.token}" for g in grants.order_by("pk")
    ]


def members_with_groups(workspace: Workspace) -> models.QuerySet[Membership]:
    """The workspace's memberships, each user carrying ``workspace_groups``: its groups
    in this workspace, by name (one prefetch query, however many members)."""
    from django.db.models import Prefetch

    from workspace.models import UserGroup

    groups = UserGroup.objects.filter(workspace=workspace).order_by("name")
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user", "workspace")
        .prefetch_related(
            Prefetch("user__user_groups", queryset=groups, to_attr="workspace_groups")
        )
    )


def actor_of(entry: AuditEntry) -> dict[str, Any]:
    """Who did it: a user, a user's access token (by its prefix), or the system."""
    user = entry.actor_user.get_username() if entry.actor_user else None
    token = entry.actor_token.prefix if entry.actor_token else None
    kind = "token" if token else "user" if user else "system"
    return {"type": kind, "user": user, "token": token}
