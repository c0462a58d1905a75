"""How the engage app's models are reached; registered from ``EngageConfig.ready``.

Spaces are what the space roles scope (Unify and Engage Admin / Read-only,
Unify Read-only Engage User: all spaces, listed ones, or those with labels).
Everything in a space belongs to it: whoever may act on the space may act on
its settings, profiles and logs.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from engage.models import (
    Computation,
    ComputationChange,
    ComputationDestination,
    ComputationExport,
    ComputationFolder,
    ComputationMember,
    ComputationRun,
    IdentifierSetting,
    IdentityLog,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileLink,
    ProfileMerge,
    Space,
    SpaceGrant,
    SpaceLabel,
    SpaceSource,
    SpaceToken,
)
from switchyard import access
from switchyard.access import Action, Principal, registry, rules
from switchyard.access.registry import ResourceType, Rule
from switchyard.access.roles import Scope

SPACES = ResourceType(
    name="space",
    model=Space,
    collection="spaces",
    grant_model=SpaceGrant,
    grant_field="space",
    label_model=SpaceLabel,
    label_field="space",
)


def register() -> None:
    registry.register_resource_type(SPACES, rules.granted(SPACES))
    for model in (
        SpaceSource,
        SpaceToken,
        Profile,
        ProfileIdentifier,
        ProfileEvent,
        ProfileMerge,
        ProfileLink,
        IdentityLog,
    ):
        registry.register(model, rules.belongs_to("space", Space))
    registry.register(IdentifierSetting, identity_settings("space"))
    # Audiences and computed traits: Engage Users' "change" on the space covers them.
    registry.register(Computation, rules.belongs_to("space", Space))
    registry.register(ComputationFolder, rules.belongs_to("space", Space))
    for child in (
        ComputationRun,
        ComputationMember,
        ComputationChange,
        ComputationExport,
        ComputationDestination,
    ):
        registry.register(child, rules.belongs_to("computation__space", Space))


def identity_settings(space_path: str) -> Rule:
    """Identity resolution settings: seen by whoever sees the space (and Identity
    Admins); edited by Workspace Owners, the space's Unify and Engage Admins (the
    space role that may create spaces: Engage Users' "change" covers audiences and
    traits, and the docs say they "cannot edit settings") and Identity Admins, a role
    granted on all spaces of the workspace only. ``space_path`` leads from the
    queryset's model to the space ("" for spaces themselves)."""
    prefix = f"{space_path}__" if space_path else ""
    in_spaces = f"{space_path}__in" if space_path else "pk__in"

    def rule(qs: QuerySet[Any], principal: Principal, action: str) -> QuerySet[Any]:
        space_action: Action = "view" if action == "view" else "create"
        spaces = access.restrict(Space.objects.all(), principal, space_action).values("pk")
        allowed = Q(**{in_spaces: spaces})
        roles = rules.roles_allowing("identity", action)
        for held in registry.tenancy().grant_sets(principal) if roles else ():
            workspaces = held.filter(role__in=roles, scope=Scope.ALL).values("workspace_id")
            allowed |= Q(**{f"{prefix}workspace_id__in": workspaces})
        return qs.filter(allowed)

    return rule
