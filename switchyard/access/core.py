"""The three questions: ``can``, ``restrict``, ``require`` (and ``can_create``).

``restrict(queryset, principal, action)`` applies the rule the model's app
registered (a SQL filter, never a Python loop); ``can`` asks it about one row;
``require`` turns a refusal into the right error. Nothing is cached, so a
revoked grant is refused on the next request.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from django.db import models

from switchyard.access.principal import Principal
from switchyard.access.registry import rule_for, tenancy
from switchyard.access.roles import Scope
from switchyard.access.rules import roles_allowing
from switchyard.errors import InsufficientScope, NotFound, PermissionDenied

# "administer": Workspace Owners' business: the audit trail, tokens, access management.
# "view_pii": unmasked PII in the workspace (owners, and PII Access grants).
Action = Literal["view", "create", "change", "delete", "administer", "view_pii"]
M = TypeVar("M", bound=models.Model)

WRITE_ACTIONS: frozenset[str] = frozenset({"create", "change", "delete"})

__all__ = ["WRITE_ACTIONS", "Action", "Principal", "can", "can_create", "require", "restrict"]


def restrict(
    queryset: models.QuerySet[M], principal: Principal, action: Action
) -> models.QuerySet[M]:
    if action in WRITE_ACTIONS and principal.read_only:
        return queryset.none()
    if not principal.is_active:
        return queryset.none()
    if principal.is_superuser:
        return queryset
    return rule_for(queryset.model)(queryset, principal, action)


def can_create(principal: Principal, resource_type: str, workspace: models.Model) -> bool:
    """New resources need the workspace's owner or an admin grant on all of the type."""
    if principal.read_only or not principal.is_active:
        return False
    if principal.is_superuser or can(principal, "administer", workspace):
        return True
    roles = roles_allowing(resource_type, "create")
    return any(
        held.filter(workspace_id=workspace.pk, role__in=roles, scope=Scope.ALL).exists()
        for held in tenancy().grant_sets(principal)
    )


def can(principal: Principal, action: Action, obj: models.Model | None = None) -> bool:
    if action in WRITE_ACTIONS and principal.read_only:
        return False
    if not principal.is_active:
        return False
    if obj is None:  # creating a new top-level resource: workspaces
        return action == "create" and principal.workspace_token is None
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), principal, action).exists()


def require(
    principal: Principal, action: Action, obj: models.Model | None = None, *, write: bool = False
) -> None:
    """Raise unless allowed: insufficient scope, not found (can't see it) or denied.

    ``write``: the caller changes something even though ``action`` (say
    "administer") also covers reading, so a read-only token is refused.
    """
    if (write or action in WRITE_ACTIONS) and principal.read_only:
        raise InsufficientScope()
    if can(principal, action, obj):
        return
    if obj is not None and action != "view" and not can(principal, "view", obj):
        raise NotFound(f"{obj._meta.verbose_name} not found")
    raise PermissionDenied(
        f"you may not {action} this {obj._meta.verbose_name if obj else 'resource'}"
    )
