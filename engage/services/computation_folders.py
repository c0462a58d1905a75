"""Folders of audiences and computed traits (engage.md §5.7): create (a name unique
in the space for its kind, a description), edit (renaming refiles its members),
disband (its audiences stay, unfiled), and moving audiences to a folder in bulk.

``Computation.folder`` holds the folder's name, so the Config API's ``folder``
field keeps working: filing under a name without a folder creates it
(``ensure_folder``, called by the computation writes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from engage.choices import AuditAction
from engage.models import Computation, ComputationKind, Space
from engage.models.computation_folders import ComputationFolder
from switchyard import access, locking
from switchyard.access import Action, Principal
from switchyard.errors import AlreadyExists, InvalidArgument, NotFound
from switchyard.validation import clean_text
from workspace.services import audit

NAME_MAX = 100  # Computation.folder's length
DESCRIPTION_MAX = 2000
MOVE_MAX = 500
WRITE_ACTION: Action = "change"  # as audiences and traits themselves
COLLECTION = {ComputationKind.AUDIENCE: "audience-folders", ComputationKind.TRAIT: "trait-folders"}


def resource_name(folder: ComputationFolder) -> str:
    return f"{folder.space.resource_name}/{COLLECTION[ComputationKind(folder.kind)]}/{folder.pk}"


def _snapshot(folder: ComputationFolder) -> dict[str, Any]:
    return {"name": folder.name, "description": folder.description}


def _taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"there is already a folder named {name!r} in this space", field="name")


def _kind(kind: str) -> ComputationKind:
    try:
        return ComputationKind(kind)
    except ValueError as exc:
        raise InvalidArgument("kind must be audience or trait", field="kind") from exc


def ensure_folder(space: Space, kind: str, name: str) -> None:
    """The folder named ``name`` exists (created without a description if not).
    Called inside the computation write's transaction; safe against a concurrent
    create of the same name."""
    if not name:
        return
    # get_or_create re-reads the row when a concurrent transaction created it first.
    ComputationFolder.objects.get_or_create(space=space, kind=kind, name=name)


def do_create_folder(
    *, principal: Principal, space: Space, kind: str, name: object, description: object = ""
) -> ComputationFolder:
    chosen_kind = _kind(kind)
    clean_name = clean_text(name, field="name", limit=NAME_MAX)
    clean_description = clean_text(
        description, field="description", limit=DESCRIPTION_MAX, required=False
    )
    with transaction.atomic():
        locked_space = locking.lock_for_update(principal, WRITE_ACTION, space)
        if ComputationFolder.objects.filter(
            space=locked_space, kind=chosen_kind, name=clean_name
        ).exists():
            raise _taken(clean_name)
        try:
            with transaction.atomic():
                folder = ComputationFolder.objects.create(
                    space=locked_space,
                    kind=chosen_kind,
                    name=clean_name,
                    description=clean_description,
                )
        except IntegrityError as exc:
            raise _taken(clean_name) from exc
        folder.space = locked_space
        audit.record(
            principal,
            AuditAction.COMPUTATION_FOLDER_CREATED,
            workspace=locked_space.workspace,
            resource_name=resource_name(folder),
            after=_snapshot(folder),
        )
    return folder


def do_update_folder(
    *, principal: Principal, folder: ComputationFolder, changes: dict[str, Any]
) -> ComputationFolder:
    """Rename (the folder's audiences follow it) or describe a folder."""
    unknown = set(changes) - {"name", "description"}
    if unknown:
        raise InvalidArgument(f"cannot update field(s) {sorted(unknown)}")
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            WRITE_ACTION,
            folder,
            related=("space__workspace",),
            subject=lambda f: f.space,
        )
        before = _snapshot(locked)
        values: dict[str, Any] = {}
        if "name" in changes:
            values["name"] = clean_text(changes["name"], field="name", limit=NAME_MAX)
        if "description" in changes:
            values["description"] = clean_text(
                changes["description"],
                field="description",
                limit=DESCRIPTION_MAX,
                required=False,
            )
        old_name = locked.name
        new_name = values.get("name", old_name)
        if new_name != old_name:
            taken = ComputationFolder.objects.filter(
                space_id=locked.space_id, kind=locked.kind, name=new_name
            )
            if taken.exists():
                raise _taken(new_name)
        try:
            with transaction.atomic():
                changed = locking.save_changes(locked, values)
        except IntegrityError as exc:
            raise _taken(new_name) from exc
        if new_name != old_name:
            _members(locked.space_id, locked.kind, old_name).update(folder=new_name)
        if changed:
            audit.record_changes(
                principal,
                AuditAction.COMPUTATION_FOLDER_UPDATED,
                workspace=locked.space.workspace,
                resource_name=resource_name(locked),
                before=before,
                after=_snapshot(locked),
            )
    return locked


def _members(space_id: int, kind: str, name: str) -> Any:
    rows = Computation.objects.filter(space_id=space_id, kind=kind, folder=name)
    # Lock them first: a concurrent edit of one of them takes its turn.
    list(rows.select_for_update().values_list("pk", flat=True))
    return rows


def do_disband_folder(*, principal: Principal, folder: ComputationFolder) -> int:
    """Delete the folder; its audiences (or traits) stay, in no folder. Returns how
    many were in it."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            WRITE_ACTION,
            folder,
            related=("space__workspace",),
            subject=lambda f: f.space,
        )
        count = _members(locked.space_id, locked.kind, locked.name).update(folder="")
        audit.record(
            principal,
            AuditAction.COMPUTATION_FOLDER_DISBANDED,
            workspace=locked.space.workspace,
            resource_name=resource_name(locked),
            before={**_snapshot(locked), "members": count},
        )
        locked.delete()
    return count


def do_move_to_folder(
    *,
    principal: Principal,
    space: Space,
    kind: str,
    keys: Sequence[str],
    folder: str,
) -> int:
    """File the audiences (or traits) named by ``keys`` under the folder named
    ``folder`` (which must exist; "" takes them out of any folder). Every key must be
    one of the space's; nothing moves otherwise. Returns how many changed."""
    chosen_kind = _kind(kind)
    wanted = sorted({str(k) for k in keys})
    if not wanted:
        raise InvalidArgument("choose at least one to move", field="keys")
    if len(wanted) > MOVE_MAX:
        raise InvalidArgument(f"move at most {MOVE_MAX} at a time", field="keys")
    with transaction.atomic():
        locked_space = locking.lock_for_update(
            principal, WRITE_ACTION, space, related=("workspace",)
        )
        if (
            folder
            and not ComputationFolder.objects.filter(
                space=locked_space, kind=chosen_kind, name=folder
            ).exists()
        ):
            raise NotFound(f"there is no folder named {folder!r} in this space")
        rows = list(
            Computation.objects.select_for_update()
            .filter(space=locked_space, kind=chosen_kind, key__in=wanted)
            .order_by("pk")
        )
        missing = sorted(set(wanted) - {c.key for c in rows})
        if missing:
            raise InvalidArgument(f"not in this space: {', '.join(missing)}", field="keys")
        moved = 0
        for computation in rows:
            access.require(principal, WRITE_ACTION, computation)
            before = computation.folder
            if locking.save_changes(computation, {"folder": folder}):
                moved += 1
                computation.space = locked_space
                audit.record_changes(
                    principal,
                    _updated(chosen_kind),
                    workspace=locked_space.workspace,
                    resource_name=computation.resource_name,
                    before={"folder": before},
                    after={"folder": folder},
                )
    return moved


def _updated(kind: ComputationKind) -> AuditAction:
    if kind == ComputationKind.AUDIENCE:
        return AuditAction.AUDIENCE_UPDATED
    return AuditAction.COMPUTED_TRAIT_UPDATED


def folders_of(space: Space, kind: str) -> list[ComputationFolder]:
    return list(ComputationFolder.objects.filter(space=space, kind=kind).order_by("name", "pk"))
