"""The Inventory: add a field path with a classification, change it, remove it
(Workspace Owners; audited).

An Inventory field is a path of the whole workspace: its classification applies
to every source and event type that sends it (detection recommends it for new
occurrences anywhere). ``restricted`` is set once the field is Yellow or Red and
never cleared by marking it Green: "Once a field has been classified as Yellow
or Red, marking it Green will not make it visible for users that don't have PII
access." The Inbox shows a path's Inventory classification in place of the
matchers' recommendation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from privacy.choices import AuditAction
from privacy.models import InventoryField
from privacy.models.fields import CLASSIFICATIONS
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, InvalidArgument
from workspace.models import Workspace
from workspace.services import audit

CHOICES = tuple(value for value, _label in CLASSIFICATIONS)
RESTRICTING = frozenset({"RED", "YELLOW"})
PATH_MAX = 512  # InventoryField.path
FIELDS = ("path", "classification", "restricted")
UPDATABLE_FIELDS = frozenset({"classification"})


def snapshot(field: InventoryField) -> dict[str, Any]:
    return {f: getattr(field, f) for f in FIELDS}


def clean_classification(value: object) -> str:
    text = value.strip().upper() if isinstance(value, str) else value
    if text not in CHOICES:
        raise InvalidArgument(
            f"classification must be one of {', '.join(CHOICES)}", field="classification"
        )
    return str(text)


def clean_path(value: object) -> str:
    """A dotted field path under context, traits or properties, as detection writes it."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("path is required, e.g. traits.email", field="path")
    path = value.strip()
    root, dot, rest = path.partition(".")
    if root not in ("context", "traits", "properties") or not dot or not rest:
        raise InvalidArgument(
            "path must be a field under context, traits or properties, e.g. traits.email",
            field="path",
        )
    if len(path) > PATH_MAX or any(not part for part in path.split(".")):
        raise InvalidArgument(
            f"path must be dotted keys, none empty, at most {PATH_MAX} characters", field="path"
        )
    return path


def do_add_inventory_field(
    *, principal: Principal, workspace: Workspace, path: str, classification: str
) -> InventoryField:
    access.require(principal, "administer", workspace, write=True)
    path = clean_path(path)
    classification = clean_classification(classification)
    duplicate = AlreadyExists(f"{path} is already in the Inventory", field="path")
    if InventoryField.objects.filter(workspace=workspace, path=path).exists():
        raise duplicate
    try:
        with transaction.atomic():
            field = InventoryField.objects.create(
                workspace=workspace,
                key_id=names.generate_id("if"),
                path=path,
                classification=classification,
                restricted=classification in RESTRICTING,
                classified_by=principal.user if not principal.user.is_anonymous else None,
            )
            audit.record(
                principal,
                AuditAction.INVENTORY_FIELD_ADDED,
                workspace=workspace,
                resource_name=field.resource_name,
                after=snapshot(field),
            )
    except IntegrityError as exc:  # added by someone else meanwhile
        raise duplicate from exc
    return field


def do_update_inventory_field(
    *, principal: Principal, field: InventoryField, changes: Mapping[str, Any]
) -> InventoryField:
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidArgument(f"cannot update inventory field(s) {sorted(unknown)}")
    values: dict[str, Any] = {f: clean_classification(v) for f, v in changes.items()}
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            "administer",
            field,
            write=True,
            related=("workspace",),
            subject=lambda row: row.workspace,
        )
        before = snapshot(locked)
        if values.get("classification") in RESTRICTING:
            values["restricted"] = True  # and it stays so: Green does not unmask
        if "classification" in values:
            values["classified_by"] = principal.user if not principal.user.is_anonymous else None
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.INVENTORY_FIELD_UPDATED,
                workspace=locked.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_remove_inventory_field(*, principal: Principal, field: InventoryField) -> None:
    """The path leaves the Inventory (and with it ``restricted``); its Inbox rows
    get the matchers' recommendation again the next time detection sees them."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            "administer",
            field,
            write=True,
            related=("workspace",),
            subject=lambda row: row.workspace,
        )
        audit.record(
            principal,
            AuditAction.INVENTORY_FIELD_REMOVED,
            workspace=locked.workspace,
            resource_name=locked.resource_name,
            before=snapshot(locked),
        )
        locked.delete()
