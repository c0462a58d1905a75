"""Workspace writes: the one way in for the UI, the API and tasks alike."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, InvalidArgument
from switchyard.nested_edits import rebase
from switchyard.validation import clean_text
from workspace.choices import AuditAction
from workspace.models import Membership, Workspace
from workspace.services import audit, labels

DISPLAY_NAME_MAX = 100
UPDATABLE_FIELDS = frozenset({"display_name", "settings"})


def snapshot(workspace: Workspace) -> dict[str, Any]:
    return {
        "slug": workspace.slug,
        "display_name": workspace.display_name,
        "settings": workspace.settings,
    }


def _clean_display_name(value: object) -> str:
    return clean_text(value, field="display_name", limit=DISPLAY_NAME_MAX)


def _clean_settings(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArgument("settings must be a JSON object", field="settings")
    return value


def do_create_workspace(
    *, principal: Principal, slug: str, display_name: str, settings: dict[str, Any] | None = None
) -> Workspace:
    access.require(principal, "create")
    slug = names.validate_slug(slug, field="name")
    workspace = Workspace(
        slug=slug,
        display_name=_clean_display_name(display_name),
        settings=_clean_settings(settings if settings is not None else {}),
    )
    if Workspace.objects.filter(slug=slug).exists():
        raise AlreadyExists(f"workspace {workspace.resource_name!r} already exists", field="name")
    try:
        with transaction.atomic():
            workspace.save()
            Membership.objects.create(
                workspace=workspace, user=principal.signed_in_user, role=Membership.Role.OWNER
            )
            labels.ensure_default_labels(workspace)
            audit.record(
                principal,
                AuditAction.WORKSPACE_CREATED,
                workspace=workspace,
                resource_name=workspace.resource_name,
                after=snapshot(workspace),
            )
    except IntegrityError as exc:  # lost a race with a concurrent create
        raise AlreadyExists(
            f"workspace {workspace.resource_name!r} already exists", field="name"
        ) from exc
    return workspace


def do_update_workspace(
    *, principal: Principal, workspace: Workspace, changes: dict[str, Any]
) -> Workspace:
    """Apply ``changes`` (field -> new value) to the workspace as it is now; nested
    settings edits (``switchyard.nested_edits``) merge into its current settings."""
    with transaction.atomic():
        locked = locking.lock_for_update(principal, "change", workspace)
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise InvalidArgument(f"cannot update workspace field(s) {sorted(unknown)}")
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = _clean_display_name(changes["display_name"])
        if "settings" in changes:
            values["settings"] = _clean_settings(rebase(changes["settings"], locked.settings))
        before = snapshot(locked)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.WORKSPACE_UPDATED,
                workspace=locked,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_workspace(*, principal: Principal, workspace: Workspace) -> None:
    access.require(principal, "delete", workspace)
    with transaction.atomic():
        audit.record(
            principal,
            AuditAction.WORKSPACE_DELETED,
            workspace=workspace,
            resource_name=workspace.resource_name,
            before=snapshot(workspace),
        )
        workspace.delete()
