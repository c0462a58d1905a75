"""The workspace's label catalogue: ``key:value`` pairs that Workspace Owners manage.

Labels cannot be renamed (as in Segment): create the new label, reassign it,
then delete the old one. A label still in use cannot be deleted.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from workspace import selectors
from workspace.choices import AuditAction
from workspace.models import Label, Workspace
from workspace.services import audit

PART_MAX = 64
DESCRIPTION_MAX = 200
UPDATABLE_FIELDS = frozenset({"description"})
# ASCII letters only: labels end up in URLs, resource names and grant rules.
_PART_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
PART_PATTERN = f"^{_PART_RE.pattern}$"  # what the API document declares
PART_RULE = (
    "begins with a letter and contains only letters, digits, hyphens or underscores, "
    f"1-{PART_MAX} characters"
)
# Every workspace starts with these (created with the workspace, so not audited).
DEFAULT_LABELS: tuple[tuple[str, str, str], ...] = (
    ("environment", "dev", "Development"),
    ("environment", "prod", "Production"),
)


def resource_name(label: Label) -> str:
    return names.build(("workspaces", label.workspace.slug), ("labels", str(label)))


def snapshot(label: Label) -> dict[str, Any]:
    return {"key": label.key, "value": label.value, "description": label.description}


def _clean_part(value: object, field: str) -> str:
    if not isinstance(value, str) or not _PART_RE.fullmatch(value):
        raise InvalidArgument(
            f"invalid label {field} {value!r}: a label {field} {PART_RULE}", field=field
        )
    return value


def _clean_description(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgument("description must be a string", field="description")
    value = value.strip()
    if len(value) > DESCRIPTION_MAX:
        raise InvalidArgument(
            f"description must be at most {DESCRIPTION_MAX} characters", field="description"
        )
    return value


def _lock(label: Label) -> Label:
    """The label's row, locked until the transaction ends (not its workspace's)."""
    locked = (
        Label.objects.select_for_update(of=("self",))
        .select_related("workspace")
        .filter(pk=label.pk)
        .first()
    )
    if locked is None:  # deleted since it was read
        raise NotFound(f"label {label} not found")
    return locked


def ensure_default_labels(workspace: Workspace) -> None:
    """Create the default labels the workspace lacks.

    Part of creating a workspace (its caller checked access and audits the
    creation), so this writes no audit entries of its own.
    """
    Label.objects.bulk_create(
        [
            Label(workspace=workspace, key=key, value=value, description=description)
            for key, value, description in DEFAULT_LABELS
        ],
        ignore_conflicts=True,
    )


def do_create_label(
    *, principal: Principal, workspace: Workspace, key: str, value: str, description: str = ""
) -> Label:
    access.require(principal, "administer", workspace, write=True)
    label = Label(
        workspace=workspace,
        key=_clean_part(key, "key"),
        value=_clean_part(value, "value"),
        description=_clean_description(description),
    )
    duplicate = AlreadyExists(f"label {label} already exists in this workspace", field="label")
    if Label.objects.filter(workspace=workspace, key=label.key, value=label.value).exists():
        raise duplicate
    try:
        with transaction.atomic():
            label.save()
            audit.record(
                principal,
                AuditAction.LABEL_CREATED,
                workspace=workspace,
                resource_name=resource_name(label),
                after=snapshot(label),
            )
    except IntegrityError as exc:  # lost a race with a concurrent create
        raise duplicate from exc
    return label


def do_update_label(*, principal: Principal, label: Label, changes: dict[str, Any]) -> Label:
    """Only the description changes: a label is renamed by replacing it."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            "administer",
            label,
            write=True,
            related=("workspace",),
            subject=lambda row: row.workspace,
        )
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise InvalidArgument(
                f"cannot update label field(s) {sorted(unknown)}: labels cannot be renamed; "
                "create the new label, reassign it and delete this one"
            )
        values = {}
        if "description" in changes:
            values["description"] = _clean_description(changes["description"])
        before = snapshot(locked)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.LABEL_UPDATED,
                workspace=locked.workspace,
                resource_name=resource_name(locked),
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_label(*, principal: Principal, label: Label) -> None:
    """Delete a label no source, space or role grant uses."""
    access.require(principal, "administer", label.workspace, write=True)
    with transaction.atomic():
        current = _lock(label)
        usages = selectors.label_usages(current)
        if usages:
            raise FailedPrecondition(
                f"label {current} is in use: {', '.join(usages)}", field="label"
            )
        audit.record(
            principal,
            AuditAction.LABEL_DELETED,
            workspace=current.workspace,
            resource_name=resource_name(current),
            before=snapshot(current),
        )
        current.delete()
