"""Rule builders the apps compose in their ``access_rules.py``.

Each returns a ``Rule``: a function narrowing a queryset to what a principal
may do, as one SQL filter (lists are never filtered in Python).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from switchyard.access.registry import Level, ResourceType, Rule, tenancy
from switchyard.access.roles import CATALOGUE, OWNER_ROLE, Scope

if TYPE_CHECKING:
    from switchyard.access.principal import Principal


def roles_allowing(resource_type: str, action: str) -> list[str]:
    return [r.slug for r in CATALOGUE if r.resource_type == resource_type and action in r.actions]


def workspace_itself() -> Rule:
    """For the workspace model: members see it, owners act on it. A permission a
    workspace role other than Workspace Owner carries (PII Access's "view_pii") is
    also held through a grant of that role: ``can(principal, "view_pii", workspace)``."""

    def rule(qs: models.QuerySet[Any], principal: Principal, action: str) -> models.QuerySet[Any]:
        t = tenancy()
        if action == "view":
            return qs.filter(pk__in=t.workspace_ids(principal, "view"))
        allowed = Q(pk__in=t.workspace_ids(principal, "administer"))
        roles = [r for r in roles_allowing("workspace", action) if r != OWNER_ROLE]
        for held in t.grant_sets(principal) if roles else ():
            granted = held.filter(role__in=roles, scope=Scope.ALL).values("workspace_id")
            allowed |= Q(pk__in=granted)
        return qs.filter(allowed)

    return rule


def owners_only(field: str = "workspace_id") -> Rule:
    """Owner business whatever the action (Segment: "Only Workspace Owners can
    change Access Management settings")."""

    def rule(qs: models.QuerySet[Any], principal: Principal, action: str) -> models.QuerySet[Any]:
        return qs.filter(**{f"{field}__in": tenancy().workspace_ids(principal, "administer")})

    return rule


def members_read_owners_write(field: str = "workspace_id") -> Rule:
    """Everyone in the workspace reads it; owners manage it (the label catalogue)."""

    def rule(qs: models.QuerySet[Any], principal: Principal, action: str) -> models.QuerySet[Any]:
        level: Level = "view" if action == "view" else "administer"
        return qs.filter(**{f"{field}__in": tenancy().workspace_ids(principal, level)})

    return rule


def belongs_to(path: str, parent: type[models.Model]) -> Rule:
    """Reached through ``path`` to a parent model: whoever may ``action`` the parent
    may ``action`` this (a destination's mappings belong to its source)."""
    from switchyard.access.core import restrict

    def rule(qs: models.QuerySet[Any], principal: Principal, action: str) -> models.QuerySet[Any]:
        allowed = restrict(parent._default_manager.all(), principal, action).values("pk")  # type: ignore[arg-type]
        return qs.filter(**{f"{path}__in": allowed})

    return rule


def granted(resource_type: ResourceType, workspace_field: str = "workspace_id") -> Rule:
    """A resource that roles scope: its workspace's owners, and grants of all such
    resources, of listed ones, or of those carrying every label of a selector."""

    def rule(qs: models.QuerySet[Any], principal: Principal, action: str) -> models.QuerySet[Any]:
        t = tenancy()
        roles = roles_allowing(resource_type.name, action)
        listing = resource_type.grant_model._default_manager
        column = f"{resource_type.grant_field}_id"
        allowed = Q(**{f"{workspace_field}__in": t.workspace_ids(principal, "administer")})
        label_grants = []
        for held in t.grant_sets(principal):
            grants = held.filter(role__in=roles)
            every = grants.filter(scope=Scope.ALL).values("workspace_id")
            specific = grants.filter(scope=Scope.SPECIFIC).values("pk")
            allowed |= Q(**{f"{workspace_field}__in": every})
            allowed |= Q(pk__in=listing.filter(grant_id__in=specific).values(column))
            label_grants.append(grants.filter(scope=Scope.LABELS))
        return qs.filter(allowed | _label_matches(resource_type, label_grants))

    return rule


def _label_matches(resource_type: ResourceType, label_grants: list[models.QuerySet[Any]]) -> Q:
    """Resources carrying all the labels of at least one of ``label_grants`` (AND
    within a selector, OR across grants).

    Reads the selectors first (one small query), then asks for each selector's
    resources as an intersection of per-label subqueries, which PostgreSQL hashes;
    grouping every (resource, grant) pair instead cost ~70x the owner's list query
    at 10,000 sources (tests/bench/test_source_list_bench.py).
    """
    if resource_type.label_model is None:
        return Q(pk__in=[])
    selectors: dict[Any, list[Any]] = {}
    for grants in label_grants:
        for grant_id, label_id in tenancy().grant_labels(grants):
            selectors.setdefault(grant_id, []).append(label_id)
    carrying = resource_type.label_model._default_manager
    column = f"{resource_type.label_field}_id"
    matches = Q(pk__in=[])
    for labels in {tuple(sorted(ids)) for ids in selectors.values()}:
        every = Q()
        for label_id in labels:
            every &= Q(pk__in=carrying.filter(label_id=label_id).values(column))
        matches |= every
    return matches
