"""The one place that answers who may do what.

``can(principal, action, obj)`` for one object, ``restrict(queryset, principal,
action)`` for lists (a SQL filter, never a Python loop), and ``require`` for
services, which turns a refusal into the right error. The access issue grows
this module into roles, groups, labels and django-guardian grants; callers keep
asking the same three questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from django.db import models
from django.db.models import Q

from switchyard.errors import InsufficientScope, NotFound, PermissionDenied, Unauthenticated
from workspace.models import AccessToken, AuditEntry, Membership, Workspace

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# "audit": read the workspace's audit trail (Workspace Owners only).
Action = Literal["view", "create", "change", "delete", "audit"]
M = TypeVar("M", bound=models.Model)

WRITE_ACTIONS: frozenset[str] = frozenset({"create", "change", "delete"})


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user, or a user acting through one of their access tokens."""

    user: User | AnonymousUser
    token: AccessToken | None = None

    @property
    def read_only(self) -> bool:
        return self.token is not None and self.token.read_only

    @property
    def signed_in_user(self) -> User:
        from django.contrib.auth.models import User

        if not isinstance(self.user, User) or not self.user.is_active:
            raise Unauthenticated()
        return self.user

    @property
    def is_superuser(self) -> bool:
        return bool(getattr(self.user, "is_superuser", False)) and self.user.is_active


def _roles_for(action: str) -> list[str]:
    """Membership roles allowed to do ``action`` on a workspace."""
    if action == "view":
        return [Membership.Role.OWNER, Membership.Role.MEMBER]
    return [Membership.Role.OWNER]


def restrict(
    queryset: models.QuerySet[M], principal: Principal, action: Action
) -> models.QuerySet[M]:
    if action in WRITE_ACTIONS and principal.read_only:
        return queryset.none()
    if not principal.user.is_authenticated or not principal.user.is_active:
        return queryset.none()
    if principal.is_superuser:
        return queryset
    if queryset.model is Workspace:
        members = Membership.objects.filter(user_id=principal.user.pk, role__in=_roles_for(action))
        return queryset.filter(pk__in=members.values("workspace_id"))
    if queryset.model is AuditEntry:
        # Owners read their workspace's trail, which also holds the
        # workspace-less events (sign-ins, token changes) of its members.
        owned = Membership.objects.filter(
            user_id=principal.user.pk, role=Membership.Role.OWNER
        ).values("workspace_id")
        their_members = Membership.objects.filter(workspace_id__in=owned).values("user_id")
        return queryset.filter(
            Q(workspace_id__in=owned) | Q(workspace__isnull=True, actor_user_id__in=their_members)
        )
    raise NotImplementedError(f"no access rule for {queryset.model.__name__}")


def can(principal: Principal, action: Action, obj: models.Model | None = None) -> bool:
    if action in WRITE_ACTIONS and principal.read_only:
        return False
    if not principal.user.is_authenticated or not principal.user.is_active:
        return False
    if obj is None:  # creating a new top-level resource: workspaces
        return action == "create"
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), principal, action).exists()


def require(principal: Principal, action: Action, obj: models.Model | None = None) -> None:
    """Raise unless allowed: insufficient scope, not found (can't see it) or denied."""
    if action in WRITE_ACTIONS and principal.read_only:
        raise InsufficientScope()
    if can(principal, action, obj):
        return
    if obj is not None and action != "view" and not can(principal, "view", obj):
        raise NotFound(f"{obj._meta.verbose_name} not found")
    raise PermissionDenied(
        f"you may not {action} this {obj._meta.verbose_name if obj else 'resource'}"
    )
