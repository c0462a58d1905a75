"""What a role grant reaches, in words people read: its role's name and the
resources it covers (the workspace, every resource of a type, or the listed or
labelled ones), for any resource type an app registered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from switchyard.access import registry
from switchyard.access.roles import BY_SLUG, Role, Scope
from workspace.models import RoleGrant, UserGroup, Workspace

# A label grant can reach thousands of resources: the page lists this many and counts the rest.
SHOWN = 20


def role_name(slug: str) -> str:
    """``Source Admin`` for ``source-admin``; an unknown slug (a role since removed) as is."""
    spec = BY_SLUG.get(slug)
    return spec.name if spec is not None else slug


@dataclass(frozen=True)
class Reach:
    """``kind``: "workspace" (the role acts on the workspace itself), "all" (every
    current and future resource of the type: ``count`` now), "resources" (the
    listed or labelled ones: ``count`` of them, the first ``SHOWN`` in
    ``resources``) or "untracked" (a type no app registered, so none exist here)."""

    role: Role | None
    kind: str
    noun: str
    count: int = 0
    resources: tuple[Any, ...] = ()

    @property
    def role_name(self) -> str:
        return self.role.name if self.role is not None else ""

    @property
    def more(self) -> int:
        return self.count - len(self.resources)


def reach(grant: RoleGrant) -> Reach:
    spec = BY_SLUG.get(grant.role)
    if spec is None:
        return Reach(None, "untracked", "")
    if spec.resource_type == "workspace":
        return Reach(spec, "workspace", "workspace", 1, (grant.workspace,))
    kind = registry.resource_type(spec.resource_type)
    if kind is None:
        return Reach(spec, "untracked", spec.resource_type.replace("_", " "))
    label_ids = [label.pk for label in grant.labels.all()]
    found = kind.reached(grant, grant.scope, label_ids)
    count = found.count()
    if grant.scope == Scope.ALL:
        return Reach(spec, "all", kind.collection, count)
    shown = tuple(found.select_related("workspace").order_by("slug")[:SHOWN]) if count else ()
    return Reach(spec, "resources", kind.collection, count, shown)


def with_reach(grants: models.QuerySet[RoleGrant]) -> list[RoleGrant]:
    """The grants, oldest first, each with ``reach`` set."""
    rows = list(
        grants.select_related("workspace", "user", "group")
        .prefetch_related("labels")
        .order_by("create_time", "pk")
    )
    for grant in rows:
        grant.reach = reach(grant)  # type: ignore[attr-defined]
    return rows


def member_grants(workspace: Workspace, user: Any) -> list[RoleGrant]:
    """A member's effective grants: their own, then their groups' (``grant.group`` set)."""
    groups = UserGroup.objects.filter(workspace=workspace, members=user)
    own = RoleGrant.objects.filter(workspace=workspace, user=user)
    through_groups = RoleGrant.objects.filter(workspace=workspace, group__in=groups)
    return with_reach(own) + with_reach(through_groups)
