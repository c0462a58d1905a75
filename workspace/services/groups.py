"""User groups: a named set of members whose role grants each member receives."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from switchyard.validation import clean_text
from workspace.choices import AuditAction
from workspace.models import GroupMembership, Membership, UserGroup, Workspace
from workspace.services import audit

NAME_MAX = 100
DESCRIPTION_MAX = 500


def group_name(group: UserGroup) -> str:
    return names.build(("workspaces", group.workspace.slug), ("groups", str(group.pk)))


def _save(group: UserGroup) -> None:
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise AlreadyExists(f"a group named {group.name!r} already exists", field="name") from exc


def do_create_group(
    *, principal: Principal, workspace: Workspace, name: object, description: object = ""
) -> UserGroup:
    access.require(principal, "administer", workspace, write=True)
    group = UserGroup(
        workspace=workspace,
        name=clean_text(name, field="name", limit=NAME_MAX),
        description=clean_text(
            description, field="description", limit=DESCRIPTION_MAX, required=False
        ),
    )
    with transaction.atomic():
        _save(group)
        audit.record(
            principal,
            AuditAction.GROUP_CREATED,
            workspace=workspace,
            resource_name=group_name(group),
            after={"name": group.name, "description": group.description},
        )
    return group


def do_update_group(
    *, principal: Principal, group: UserGroup, changes: dict[str, Any]
) -> UserGroup:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            "administer",
            group,
            write=True,
            related=("workspace",),
            subject=lambda row: row.workspace,
        )
        unknown = set(changes) - {"name", "description"}
        if unknown:
            raise InvalidArgument(f"cannot update group field(s) {sorted(unknown)}")
        values = {}
        if "name" in changes:
            values["name"] = clean_text(changes["name"], field="name", limit=NAME_MAX)
        if "description" in changes:
            values["description"] = clean_text(
                changes["description"], field="description", limit=DESCRIPTION_MAX, required=False
            )
        before = {"name": locked.name, "description": locked.description}
        try:
            with transaction.atomic():
                changed = locking.save_changes(locked, values)
        except IntegrityError as exc:
            raise AlreadyExists(
                f"a group named {values['name']!r} already exists", field="name"
            ) from exc
        if changed:
            audit.record_changes(
                principal,
                AuditAction.GROUP_UPDATED,
                workspace=locked.workspace,
                resource_name=group_name(locked),
                before=before,
                after={"name": locked.name, "description": locked.description},
            )
    return locked


def do_delete_group(*, principal: Principal, group: UserGroup) -> None:
    """Deleting a group removes its grants, not its members from the workspace."""
    access.require(principal, "administer", group.workspace, write=True)
    with transaction.atomic():
        audit.record(
            principal,
            AuditAction.GROUP_DELETED,
            workspace=group.workspace,
            resource_name=group_name(group),
            before={
                "name": group.name,
                "members": sorted(group.members.values_list("username", flat=True)),
            },
        )
        group.delete()


def do_add_group_member(*, principal: Principal, group: UserGroup, user: User) -> GroupMembership:
    access.require(principal, "administer", group.workspace, write=True)
    if not Membership.objects.filter(workspace=group.workspace, user=user).exists():
        raise FailedPrecondition(f"{user.get_username()} is not a member of this workspace")
    with transaction.atomic():
        membership, created = GroupMembership.objects.get_or_create(group=group, user=user)
        if not created:
            raise AlreadyExists(f"{user.get_username()} is already in {group.name}", field="user")
        audit.record(
            principal,
            AuditAction.GROUP_MEMBER_ADDED,
            workspace=group.workspace,
            resource_name=group_name(group),
            after={"user": user.get_username()},
        )
    return membership


def do_remove_group_member(*, principal: Principal, group: UserGroup, user: User) -> None:
    """Takes effect on the member's next request: access is computed per request."""
    access.require(principal, "administer", group.workspace, write=True)
    with transaction.atomic():
        deleted, _ = GroupMembership.objects.filter(group=group, user=user).delete()
        if deleted:
            audit.record(
                principal,
                AuditAction.GROUP_MEMBER_REMOVED,
                workspace=group.workspace,
                resource_name=group_name(group),
                before={"user": user.get_username()},
            )
