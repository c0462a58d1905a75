"""Role grants: a role, for a member, group or token, on all, listed or labelled resources."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from switchyard import access, locking, names
from switchyard.access import Principal, registry
from switchyard.access.roles import BY_SLUG, Role, Scope
from switchyard.errors import InvalidArgument
from workspace.choices import AuditAction
from workspace.models import AccessToken, Label, Membership, RoleGrant, UserGroup, Workspace
from workspace.services import audit

Grantee = User | UserGroup | AccessToken


def grant_name(grant: RoleGrant) -> str:
    return names.build(("workspaces", grant.workspace.slug), ("grants", str(grant.pk)))


def resource_type(grant: RoleGrant) -> registry.ResourceType | None:
    """The kind of resource the grant's role scopes, as its app registered it."""
    spec = BY_SLUG.get(grant.role)
    return registry.resource_type(spec.resource_type) if spec else None


def listed_resources(grant: RoleGrant) -> list[Any]:
    """The resources a specific-scope grant lists (stored by the app owning them)."""
    kind = resource_type(grant)
    return kind.listed(grant) if kind is not None and grant.scope == Scope.SPECIFIC else []


def prefetch_listed() -> list[str]:
    """``prefetch_related`` lookups that make ``listed_resources`` query-free."""
    return [kind.prefetch() for kind in registry.resource_types()]


def describe(grant: RoleGrant) -> dict[str, object]:
    grantee = grant.user or grant.group or grant.token
    kind = "user" if grant.user else "group" if grant.group else "token"
    collection = getattr(resource_type(grant), "collection", "resources")
    return {
        kind: str(grantee),
        "role": grant.role,
        "scope": grant.scope,
        "labels": sorted(str(label) for label in grant.labels.all()),
        collection: sorted(r.slug for r in listed_resources(grant)),
    }


def _check_grantee(workspace: Workspace, grantee: Grantee) -> None:
    if isinstance(grantee, User):
        if not Membership.objects.filter(workspace=workspace, user=grantee).exists():
            raise InvalidArgument(f"{grantee.username} is not a member of this workspace")
    elif grantee.workspace_id != workspace.pk:
        raise InvalidArgument("the grantee belongs to another workspace")


def _checked(
    workspace: Workspace,
    role: object,
    scope: object,
    labels: list[Label],
    resources: list[models.Model],
) -> tuple[Role, registry.ResourceType | None]:
    """The role and its resource type, once the policy is one that can match."""
    spec = BY_SLUG.get(role) if isinstance(role, str) else None
    if spec is None:
        raise InvalidArgument(f"unknown role {role!r}; see the roles catalogue", field="role")
    if scope not in spec.scopes:
        allowed = [str(s) for s in spec.scopes]
        raise InvalidArgument(f"{spec.name} takes scope {allowed}, not {scope!r}", field="scope")
    if scope == Scope.LABELS and not labels:
        raise InvalidArgument("a label scope needs at least one label", field="labels")
    if scope != Scope.LABELS and labels:
        raise InvalidArgument("labels apply only to scope 'labels'", field="labels")
    kind = registry.resource_type(spec.resource_type)
    if scope == Scope.SPECIFIC:
        if kind is None:
            raise InvalidArgument(
                f"listing specific resources is not supported for {spec.name}", field="scope"
            )
        if not resources:
            raise InvalidArgument("a specific scope needs at least one resource", field="resources")
        if any(not isinstance(r, kind.model) for r in resources):
            raise InvalidArgument(f"{spec.name} lists {kind.collection} only", field="resources")
    elif resources:
        raise InvalidArgument("resources apply only to scope 'specific'", field="resources")
    if any(label.workspace_id != workspace.pk for label in labels) or any(
        r.workspace_id != workspace.pk  # type: ignore[attr-defined]
        for r in resources
    ):
        raise InvalidArgument("labels and resources must belong to this workspace")
    keys = [label.key for label in labels]
    if len(keys) != len(set(keys)):
        # A resource holds one value per key, so such a selector could match nothing.
        raise InvalidArgument(
            "a label selector takes one value per key; use one grant per value (OR)",
            field="labels",
        )
    return spec, kind


def do_create_grant(
    *,
    principal: Principal,
    workspace: Workspace,
    grantee: Grantee,
    role: object,
    scope: object,
    labels: list[Label] | None = None,
    resources: list[models.Model] | None = None,
) -> RoleGrant:
    """``resources``: for scope "specific", rows of the role's resource type."""
    access.require(principal, "administer", workspace, write=True)
    _check_grantee(workspace, grantee)
    labels, resources = labels or [], resources or []
    spec, kind = _checked(workspace, role, scope, labels, resources)
    with transaction.atomic():
        grant = RoleGrant.objects.create(
            workspace=workspace,
            user=grantee if isinstance(grantee, User) else None,
            group=grantee if isinstance(grantee, UserGroup) else None,
            token=grantee if isinstance(grantee, AccessToken) else None,
            role=spec.slug,
            scope=str(scope),
            label_count=len(labels),
        )
        grant.labels.set(labels)
        if kind is not None and resources:
            kind.set_listed(grant, resources)
        audit.record(
            principal,
            AuditAction.GRANT_CREATED,
            workspace=workspace,
            resource_name=grant_name(grant),
            after=describe(grant),
        )
    return grant


def do_update_grant(
    *, principal: Principal, grant: RoleGrant, changes: dict[str, Any]
) -> RoleGrant:
    """Change a grant's role, label selector or listed resources (its principal and
    scope stay: those make another policy). Each change applies to the grant as it
    is when the row lock is taken, so concurrent updates of different parts all stay."""
    unknown = set(changes) - {"role", "labels", "resources"}
    if unknown:
        raise InvalidArgument(f"cannot update grant field(s) {sorted(unknown)}")
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            "administer",
            grant,
            write=True,
            related=("workspace", "user", "group", "token"),
            subject=lambda row: row.workspace,
        )
        before = describe(locked)
        role = changes.get("role", locked.role)
        labels = changes["labels"] if "labels" in changes else list(locked.labels.all())
        resources = changes["resources"] if "resources" in changes else listed_resources(locked)
        _spec, kind = _checked(locked.workspace, role, locked.scope, labels, resources)
        locking.save_changes(locked, {"role": role, "label_count": len(labels)})
        if "labels" in changes:
            locked.labels.set(labels)
        if kind is not None and "resources" in changes:
            kind.set_listed(locked, resources)
        audit.record_changes(
            principal,
            AuditAction.GRANT_UPDATED,
            workspace=locked.workspace,
            resource_name=grant_name(locked),
            before=before,
            after=describe(locked),
        )
    return locked


def do_delete_grant(*, principal: Principal, grant: RoleGrant) -> None:
    """Takes effect on the grantee's next request."""
    access.require(principal, "administer", grant.workspace, write=True)
    with transaction.atomic():
        audit.record(
            principal,
            AuditAction.GRANT_DELETED,
            workspace=grant.workspace,
            resource_name=grant_name(grant),
            before=describe(grant),
        )
        grant.delete()
