"""How the workspace app's models are reached, and the tenancy the kernel asks.

Registered from ``WorkspaceConfig.ready``. Owners are members with the owner
role, holders of a ``workspace-owner`` grant (Segment grants Workspace Owner like
any role, to a user or a group), and owner-access workspace tokens.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from switchyard.access import registry, rules
from switchyard.access.principal import Principal
from switchyard.access.registry import Level
from switchyard.access.roles import OWNER_ROLE
from workspace.models import (
    AccessToken,
    AuditEntry,
    GroupMembership,
    Invitation,
    Label,
    Membership,
    RoleGrant,
    UserGroup,
    Workspace,
)


class WorkspaceTenancy:
    def workspaces(self) -> models.QuerySet[Workspace]:
        return Workspace.objects.all()

    def authenticate(self, secret: str) -> AccessToken | None:
        from workspace.services.tokens import authenticate

        return authenticate(secret)

    def workspace_ids(self, principal: Principal, level: Level) -> Any:
        if (token := principal.workspace_token) is not None:
            if level == "view" or token.access == AccessToken.Access.OWNER:
                return [token.workspace_id]
            return RoleGrant.objects.filter(token_id=token.pk, role=OWNER_ROLE).values(
                "workspace_id"
            )
        user_id = principal.signed_in_user.pk
        members = Membership.objects.filter(user_id=user_id)
        if level == "view":
            return members.values("workspace_id")
        in_groups = GroupMembership.objects.filter(user_id=user_id).values("group_id")
        owner_grants = RoleGrant.objects.filter(
            role=OWNER_ROLE, workspace_id__in=members.values("workspace_id")
        )
        return Workspace.objects.filter(
            Q(pk__in=members.filter(role=Membership.Role.OWNER).values("workspace_id"))
            | Q(pk__in=owner_grants.filter(user_id=user_id).values("workspace_id"))
            | Q(pk__in=owner_grants.filter(group_id__in=in_groups).values("workspace_id"))
        ).values("pk")

    def grant_sets(self, principal: Principal) -> list[models.QuerySet[RoleGrant]]:
        """Only in workspaces the principal still belongs to: leaving a workspace or a
        group takes effect on the next request (nothing is cached)."""
        if (token := principal.workspace_token) is not None:
            return [RoleGrant.objects.filter(token_id=token.pk)]
        user_id = principal.signed_in_user.pk
        in_workspaces = RoleGrant.objects.filter(
            workspace_id__in=self.workspace_ids(principal, "view")
        )
        in_groups = GroupMembership.objects.filter(user_id=user_id).values("group_id")
        return [in_workspaces.filter(user_id=user_id), in_workspaces.filter(group_id__in=in_groups)]

    def grant_labels(self, grants: models.QuerySet[Any]) -> Any:
        return RoleGrant.labels.through.objects.filter(
            rolegrant_id__in=grants.values("pk")
        ).values_list("rolegrant_id", "label_id")


def _audit_entries(
    qs: models.QuerySet[Any], principal: Principal, action: str
) -> models.QuerySet[Any]:
    # Owners read their workspace's trail, which also holds the workspace-less
    # events (sign-ins, personal tokens) of its members.
    owned = registry.tenancy().workspace_ids(principal, "administer")
    their_members = Membership.objects.filter(workspace_id__in=owned).values("user_id")
    return qs.filter(
        Q(workspace_id__in=owned) | Q(workspace__isnull=True, actor_user_id__in=their_members)
    )


def _access_tokens(
    qs: models.QuerySet[Any], principal: Principal, action: str
) -> models.QuerySet[Any]:
    # A workspace's tokens are its owners' business; a personal token (no
    # workspace) is its own user's, to see and revoke, and no workspace's.
    allowed = Q(workspace_id__in=registry.tenancy().workspace_ids(principal, "administer"))
    if principal.workspace_token is None:
        allowed |= Q(workspace__isnull=True, user_id=principal.signed_in_user.pk)
    return qs.filter(allowed)


def register() -> None:
    registry.register_tenancy(WorkspaceTenancy())
    registry.register(Workspace, rules.workspace_itself())
    registry.register(AuditEntry, _audit_entries)
    # Access management is the owners'.
    for model in (Membership, Invitation, UserGroup, RoleGrant):
        registry.register(model, rules.owners_only())
    registry.register(AccessToken, _access_tokens)
    registry.register(Label, rules.members_read_owners_write())
