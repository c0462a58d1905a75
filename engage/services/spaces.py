"""Space writes: create (with default identity settings), update (display name,
labels, connection policy; the slug is immutable), and deletion: requested by a
Workspace Owner, cancellable for 5 days, then carried out by the sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from engage.choices import AuditAction
from engage.models import Space, SpaceLabel
from engage.services import identity_settings
from switchyard import access, locking, names
from switchyard.access import Action, Principal
from switchyard.errors import (
    AlreadyExists,
    FailedPrecondition,
    InsufficientScope,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from switchyard.validation import clean_text
from workspace.models import Label, Workspace
from workspace.services import audit

DISPLAY_NAME_MAX = 100
# Segment: "Deletion starts 5 calendar days after the request" and can be cancelled.
DELETION_GRACE = timedelta(days=5)
UPDATABLE = {"display_name", "labels", "required_labels", "batch_cadence_hours"}
# Batch audiences and traits: every 8 hours by default (Segment), at most weekly.
CADENCE_HOURS = range(1, 24 * 7 + 1)
# Editing a space's settings (name, labels, policy, sources, tokens) is for its
# Unify and Engage Admins: the space roles holding "create". Engage Users hold
# "change" for audiences and traits, and "cannot edit settings" (the roles page).
SETTINGS_ACTION: Action = "create"
SLUG_IMMUTABLE = (
    "a space's slug cannot be changed (it is the space's URL); "
    "change its display_name, or create a new space"
)


def snapshot(space: Space) -> dict[str, Any]:
    return {
        "slug": space.slug,
        "display_name": space.display_name,
        "labels": space.label_names,
        "required_labels": list(space.required_labels),
        "batch_cadence_hours": space.batch_cadence_hours,
        "delete_time": space.delete_time.isoformat() if space.delete_time else None,
    }


def _require_sight(principal: Principal, space: Space) -> None:
    if not access.can(principal, "view", space):
        raise NotFound(f"space {space.slug!r} not found")


def require_settings_access(principal: Principal, space: Space) -> None:
    """Raise unless ``principal`` may edit the space's settings (404 for the unseen)."""
    if not access.can(principal, SETTINGS_ACTION, space):
        _require_sight(principal, space)
        if principal.read_only:
            raise InsufficientScope()
        raise PermissionDenied(
            "editing a space's settings needs Workspace Owner or Unify and Engage Admin "
            "on the space"
        )


def can_edit_settings(principal: Principal, space: Space) -> bool:
    return access.can(principal, SETTINGS_ACTION, space)


def _clean_cadence(value: object) -> int:
    if type(value) is not int or value not in CADENCE_HOURS:
        raise InvalidArgument(
            "batch_cadence_hours must be a whole number of hours from 1 to 168",
            field="batch_cadence_hours",
        )
    return value


def _clean_display_name(value: object) -> str:
    return clean_text(value, field="display_name", limit=DISPLAY_NAME_MAX)


def _label_strings(values: object, field: str) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InvalidArgument(f'{field} must be a list like ["environment:prod"]', field=field)
    return sorted(set(values))


def resolve_labels(workspace: Workspace, values: object, *, field: str = "labels") -> list[Label]:
    """``["environment:prod", ...]`` -> the workspace's catalogue labels, at most
    one value per key (what label-scoped role grants and policies match on)."""
    wanted = _label_strings(values, field)
    found = {str(label): label for label in Label.objects.filter(workspace=workspace)}
    unknown = [v for v in wanted if v not in found]
    if unknown:
        raise InvalidArgument(
            f"unknown label(s) {unknown}: create them in the label catalogue first", field=field
        )
    labels = [found[v] for v in wanted]
    keys = [label.key for label in labels]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidArgument(f"one value per label key; several given for {repeated}", field=field)
    return labels


def _set_labels(space: Space, labels: list[Label]) -> None:
    SpaceLabel.objects.filter(space=space).delete()
    SpaceLabel.objects.bulk_create(
        SpaceLabel(space=space, label=label, key=label.key) for label in labels
    )


def _clean_policy(workspace: Workspace, values: object) -> list[str]:
    """Labels a source must carry to connect, stored as ``key:value`` strings."""
    return [str(label) for label in resolve_labels(workspace, values, field="required_labels")]


def do_create_space(
    *,
    principal: Principal,
    workspace: Workspace,
    slug: object,
    display_name: object,
    labels: object = (),
    required_labels: object = (),
) -> Space:
    """Workspace Owners, or Unify and Engage Admins of all spaces, create spaces;
    each starts with the default identity resolution settings."""
    if not access.can_create(principal, "space", workspace):
        if principal.read_only:
            access.require(principal, "create", workspace)  # raises insufficient scope
        raise PermissionDenied(
            "creating spaces needs Workspace Owner or Unify and Engage Admin on all spaces"
        )
    space = Space(
        workspace=workspace,
        key_id=names.generate_id("spa", 24),
        slug=names.validate_slug(slug, field="name"),
        display_name=_clean_display_name(display_name),
        required_labels=_clean_policy(workspace, required_labels),
    )
    chosen = resolve_labels(workspace, labels)
    duplicate = AlreadyExists(f"space {space.resource_name!r} already exists", field="name")
    if Space.objects.filter(workspace=workspace, slug=space.slug).exists():
        raise duplicate
    try:
        with transaction.atomic():
            space.save()
            _set_labels(space, chosen)
            identity_settings.seed_defaults(space)
            audit.record(
                principal,
                AuditAction.SPACE_CREATED,
                workspace=workspace,
                resource_name=space.resource_name,
                after=snapshot(space),
            )
    except IntegrityError as exc:  # lost a race with a concurrent create
        raise duplicate from exc
    return space


def do_update_space(*, principal: Principal, space: Space, changes: dict[str, Any]) -> Space:
    """Unify and Engage Admins of the space (and owners) rename it, relabel it
    and set its connection policy."""
    with transaction.atomic():
        locked = locking.lock_for_update(principal, "view", space, related=("workspace",))
        require_settings_access(principal, locked)
        if "slug" in changes or "name" in changes:
            raise InvalidArgument(SLUG_IMMUTABLE, field="name")
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidArgument(f"cannot update space field(s) {sorted(unknown)}")
        before = snapshot(locked)
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = _clean_display_name(changes["display_name"])
        if "required_labels" in changes:
            values["required_labels"] = _clean_policy(locked.workspace, changes["required_labels"])
        if "batch_cadence_hours" in changes:
            values["batch_cadence_hours"] = _clean_cadence(changes["batch_cadence_hours"])
        relabel = False
        if "labels" in changes:
            chosen = resolve_labels(locked.workspace, changes["labels"])
            relabel = sorted(str(label) for label in chosen) != before["labels"]
            if relabel:
                _set_labels(locked, chosen)
        if locking.save_changes(locked, values, touched=relabel):
            audit.record_changes(
                principal,
                AuditAction.SPACE_UPDATED,
                workspace=locked.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def _lock_for_owner(principal: Principal, space: Space) -> Space:
    """The space's row, locked, once ``principal`` may administer its workspace
    (Segment: deleting a space is for Workspace Owners only)."""
    _require_sight(principal, space)
    return locking.lock_for_update(
        principal,
        "administer",
        space,
        write=True,
        related=("workspace",),
        subject=lambda row: row.workspace,
    )


def do_request_space_deletion(
    *, principal: Principal, space: Space, now: datetime | None = None
) -> Space:
    """Starts the grace period; the space works as before until it ends."""
    with transaction.atomic():
        locked = _lock_for_owner(principal, space)
        if locked.delete_time is not None:
            raise FailedPrecondition(
                f"deletion of space {locked.slug!r} is already requested "
                f"(it is deleted after {locked.delete_time:%Y-%m-%d %H:%M} UTC)"
            )
        locked.delete_time = (now or timezone.now()) + DELETION_GRACE
        locked.save(update_fields=["delete_time", "update_time"])
        audit.record(
            principal,
            AuditAction.SPACE_DELETION_REQUESTED,
            workspace=locked.workspace,
            resource_name=locked.resource_name,
            after={"delete_time": locked.delete_time.isoformat()},
        )
    return locked


def do_cancel_space_deletion(*, principal: Principal, space: Space) -> Space:
    with transaction.atomic():
        locked = _lock_for_owner(principal, space)
        if locked.delete_time is None:
            raise FailedPrecondition(f"deletion of space {locked.slug!r} is not requested")
        before = {"delete_time": locked.delete_time.isoformat()}
        locked.delete_time = None
        locked.save(update_fields=["delete_time", "update_time"])
        audit.record(
            principal,
            AuditAction.SPACE_DELETION_CANCELLED,
            workspace=locked.workspace,
            resource_name=locked.resource_name,
            before=before,
        )
    return locked


def due_for_deletion(now: datetime | None = None) -> list[int]:
    """Ids of spaces whose grace period is over."""
    moment = now or timezone.now()
    return list(
        Space.objects.filter(delete_time__lte=moment)
        .order_by("delete_time")
        .values_list("pk", flat=True)
    )


def delete_space(space_id: int, *, now: datetime | None = None) -> bool:
    """Carry out a requested deletion whose grace is over (the sweep's task; no
    principal: the owner who asked was checked then). Everything in the space
    goes with it (foreign keys cascade). False when it was cancelled meanwhile."""
    moment = now or timezone.now()
    with transaction.atomic():
        space = (
            Space.objects.select_for_update(of=("self",))
            .select_related("workspace")
            .filter(pk=space_id, delete_time__lte=moment)
            .first()
        )
        if space is None:
            return False
        audit.record(
            Principal(AnonymousUser()),  # the system: an entry with no actor
            AuditAction.SPACE_DELETED,
            workspace=space.workspace,
            resource_name=space.resource_name,
            before=snapshot(space),
        )
        space.delete()
    return True
