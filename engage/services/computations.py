"""Audience and computed trait writes: create, update (update mask; key, kind,
compute mode and include_anonymous are immutable), delete, preview, and asking
for a run. Definitions are checked by ``engage.definitions`` against the space's
stored audiences and traits (cycles, batch references); runs are
``computation_runs``'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from engage import definitions
from engage.choices import AuditAction
from engage.compute.sql import CompileError, audience_members, trait_values
from engage.models import (
    Computation,
    ComputationKey,
    ComputationKind,
    ComputationRun,
    ComputationStatus,
    Profile,
    RunStatus,
    RunTrigger,
    Space,
)
from engage.services import computation_destinations, computation_folders, computation_runs
from switchyard import access, locking, names
from switchyard.access import Action, Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from switchyard.nested_edits import rebase
from switchyard.validation import clean_text
from workspace.services import audit

DISPLAY_NAME_MAX = 200
FOLDER_MAX = 100
DESCRIPTION_MAX = 2000
PREVIEW_SAMPLE = 10
# Engage Users hold "change" on their spaces: audiences and traits are theirs.
WRITE_ACTION: Action = "change"
UPDATABLE = {
    "display_name",
    "description",
    "folder",
    "definition",
    "enabled",
    "compute_without_destinations",
}
IMMUTABLE = {
    "key": "a key cannot be changed (destinations know the audience or trait by it); "
    "create a new one",
    "kind": "an audience cannot become a computed trait, nor the reverse",
    "compute_mode": "real-time and batch cannot be switched by editing; create a new one",
}
MODE_CHANGED = (
    "this definition would be computed {new} but the {noun} is {old}: real-time and batch "
    "cannot be switched by editing; create a new one"
)
ANONYMOUS_CHANGED = "include_anonymous cannot be changed by editing; create a new audience"
PREFIX = {ComputationKind.AUDIENCE: "aud", ComputationKind.TRAIT: "tra"}
NOUN = {ComputationKind.AUDIENCE: "audience", ComputationKind.TRAIT: "computed trait"}
ACTIONS = {
    ComputationKind.AUDIENCE: (
        AuditAction.AUDIENCE_CREATED,
        AuditAction.AUDIENCE_UPDATED,
        AuditAction.AUDIENCE_DELETED,
    ),
    ComputationKind.TRAIT: (
        AuditAction.COMPUTED_TRAIT_CREATED,
        AuditAction.COMPUTED_TRAIT_UPDATED,
        AuditAction.COMPUTED_TRAIT_DELETED,
    ),
}


def snapshot(computation: Computation) -> dict[str, Any]:
    return {
        "key": computation.key,
        "display_name": computation.display_name,
        "description": computation.description,
        "folder": computation.folder,
        "definition": computation.definition,
        "compute_mode": computation.compute_mode,
        "enabled": computation.enabled,
        "compute_without_destinations": computation.compute_without_destinations,
    }


@dataclass(frozen=True)
class Checked:
    definition: dict[str, Any]
    mode: str
    reasons: tuple[definitions.DefinitionError, ...]


def _fail(errors: Sequence[definitions.DefinitionError]) -> InvalidArgument:
    lines = [f"definition{e.path}: {e.message}" for e in errors[:20]]
    more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
    return InvalidArgument("; ".join(lines) + more, field="definition")


def check_definition(
    space: Space, kind: str, definition: object, *, key: str | None = None
) -> Checked:
    """Validate ``definition`` for a ``kind`` of the space: its shape and rules,
    references to audiences that exist in the space, and (audiences) no cycle
    through the stored audiences. Raises InvalidArgument naming each error's
    JSON Pointer under ``definition``."""
    if not isinstance(definition, dict):
        raise InvalidArgument("definition must be a JSON object", field="definition")
    if kind == ComputationKind.TRAIT:
        errors = definitions.validate_trait(definition)
        if errors:
            raise _fail(errors)
        result = definitions.classify_trait(definition)
        return Checked(definition, result.mode, result.reasons)
    stored = {c.key: c for c in Computation.objects.filter(space=space).exclude(key=key or "")}
    audiences = {k: c for k, c in stored.items() if c.kind == ComputationKind.AUDIENCE}
    traits = {k: c for k, c in stored.items() if c.kind == ComputationKind.TRAIT}

    def depends_on(name: str) -> Iterable[str]:
        found = audiences.get(name)
        return definitions.references(found.definition).audiences if found else ()

    result, errors = definitions.check_audience(
        definition,
        key=key or "",
        depends_on=depends_on,
        is_batch_trait=lambda n: n in traits and traits[n].compute_mode == definitions.BATCH,
        is_batch_audience=lambda k: (
            k in audiences and audiences[k].compute_mode == definitions.BATCH
        ),
    )
    if not errors:
        for node, path in definitions.walk(definition):
            target = node.get("audience_key")
            if node.get("kind") == "audience" and target != key and target not in audiences:
                errors.append(
                    definitions.DefinitionError(
                        f"{path}/audience_key",
                        f"there is no audience {target!r} in this space",
                        "unknown_audience",
                    )
                )
    if errors:
        raise _fail(errors)
    return Checked(definition, result.mode, result.reasons)


def _clean_key(space: Space, key: object, display_name: str) -> str:
    chosen = key if key not in (None, "") else definitions.key_from_name(display_name)
    problem = definitions.key_error(chosen)
    if problem:
        raise InvalidArgument(f"key: {problem}", field="key")
    assert isinstance(chosen, str)
    if ComputationKey.objects.filter(space=space, key=chosen).exists():
        raise AlreadyExists(
            f"key {chosen!r} is or was used by an audience or computed trait of this space "
            "(keys are never reused); choose another",
            field="key",
        )
    return chosen


def _require_write(principal: Principal, space: Space) -> None:
    access.require(principal, WRITE_ACTION, space)


def do_create_computation(
    *,
    principal: Principal,
    space: Space,
    kind: str,
    display_name: object,
    definition: object,
    key: object = None,
    description: object = "",
    folder: object = "",
    enabled: bool = True,
    compute_without_destinations: bool = True,
) -> Computation:
    """Engage Users, Unify and Engage Admins and owners create audiences and
    computed traits; the first run is queued after the commit."""
    _require_write(principal, space)
    name = clean_text(display_name, field="display_name", limit=DISPLAY_NAME_MAX)
    chosen = _clean_key(space, key, name)
    checked = check_definition(space, kind, definition, key=chosen)
    computation = Computation(
        space=space,
        kind=kind,
        key_id=names.generate_id(PREFIX[ComputationKind(kind)], 24),
        key=chosen,
        display_name=name,
        description=_clean_optional(description, "description", DESCRIPTION_MAX),
        folder=_clean_optional(folder, "folder", FOLDER_MAX),
        definition=checked.definition,
        compute_mode=checked.mode,
        enabled=bool(enabled),
        status=ComputationStatus.PREPARING if enabled else ComputationStatus.DISABLED,
        compute_without_destinations=bool(compute_without_destinations),
        created_by=principal.user if principal.user.is_authenticated else None,
    )
    duplicate = AlreadyExists(f"key {chosen!r} is already used in this space", field="key")
    try:
        with transaction.atomic():
            Space.objects.select_for_update().filter(pk=space.pk).first()  # one create at a time
            if ComputationKey.objects.filter(space=space, key=chosen).exists():
                raise duplicate
            ComputationKey.objects.create(space=space, key=chosen)
            computation.save()
            computation_folders.ensure_folder(space, kind, computation.folder)
            audit.record(
                principal,
                ACTIONS[ComputationKind(kind)][0],
                workspace=space.workspace,
                resource_name=computation.resource_name,
                after=snapshot(computation),
            )
            # §5.5: a batch one without destinations nor the flag is NOT_COMPUTING.
            if computation.enabled and computation_destinations.computes(computation):
                computation_runs.queue_run(computation, RunTrigger.CREATE)
            elif computation.enabled:
                computation.status = ComputationStatus.NOT_COMPUTING
                computation.save(update_fields=["status"])
    except IntegrityError as exc:
        raise duplicate from exc
    return computation


def _clean_optional(value: object, field: str, limit: int) -> str:
    if value in (None, ""):
        return ""
    return clean_text(value, field=field, limit=limit)


def do_update_computation(
    *, principal: Principal, computation: Computation, changes: dict[str, Any]
) -> Computation:
    """Rename, describe, file in a folder, enable/disable, or edit the definition
    (same compute mode and include_anonymous); a new definition or re-enabling
    queues a run after the commit."""
    for field, why in IMMUTABLE.items():
        if field in changes:
            raise InvalidArgument(why, field=field)
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(f"cannot update field(s) {sorted(unknown)}")
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, WRITE_ACTION, computation, related=("space__workspace",)
        )
        kind = ComputationKind(locked.kind)
        before = snapshot(locked)
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = clean_text(
                changes["display_name"], field="display_name", limit=DISPLAY_NAME_MAX
            )
        if "description" in changes:
            values["description"] = _clean_optional(
                changes["description"], "description", DESCRIPTION_MAX
            )
        if "folder" in changes:
            values["folder"] = _clean_optional(changes["folder"], "folder", FOLDER_MAX)
            computation_folders.ensure_folder(locked.space, locked.kind, values["folder"])
        if "enabled" in changes:
            if not isinstance(changes["enabled"], bool):
                raise InvalidArgument("enabled must be true or false", field="enabled")
            values["enabled"] = changes["enabled"]
            if changes["enabled"] != locked.enabled:
                values["status"] = (
                    ComputationStatus.PREPARING
                    if changes["enabled"]
                    else ComputationStatus.DISABLED
                )
        # Nested paths (audience.definition.root) edit the definition as stored now.
        wanted = rebase(changes.get("definition"), locked.definition)
        if "definition" in changes and wanted != locked.definition:
            checked = check_definition(locked.space, kind, wanted, key=locked.key)
            if checked.mode != locked.compute_mode:
                raise InvalidArgument(
                    MODE_CHANGED.format(new=checked.mode, old=locked.compute_mode, noun=NOUN[kind]),
                    field="definition",
                )
            old_anonymous = bool(locked.definition.get("include_anonymous"))
            if bool(checked.definition.get("include_anonymous")) != old_anonymous:
                raise InvalidArgument(ANONYMOUS_CHANGED, field="definition.include_anonymous")
            values["definition"] = checked.definition
        if "compute_without_destinations" in changes:
            flag = changes["compute_without_destinations"]
            if not isinstance(flag, bool):
                raise InvalidArgument(
                    "compute_without_destinations must be true or false",
                    field="compute_without_destinations",
                )
            values["compute_without_destinations"] = flag
        rerun = "definition" in values or values.get("enabled") is True
        if rerun and not computation_destinations.computes(_with(locked, values)):
            rerun = False
            if locked.enabled or values.get("enabled"):
                values["status"] = ComputationStatus.NOT_COMPUTING
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                ACTIONS[kind][1],
                workspace=locked.space.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
        if "compute_without_destinations" in values and not rerun:
            computation_destinations.refresh_status(locked)
        if rerun and locked.enabled:
            computation_runs.queue_run(locked, RunTrigger.EDIT)
    return locked


def _with(computation: Computation, values: dict[str, Any]) -> Computation:
    """An unsaved copy of ``computation`` with ``values`` set (to ask about it)."""
    fields = Computation._meta.concrete_fields
    copy = Computation(**{f.attname: getattr(computation, f.attname) for f in fields})
    for name, value in values.items():
        setattr(copy, name, value)
    return copy


def do_delete_computation(*, principal: Principal, computation: Computation) -> None:
    """Delete an audience or trait with its members, runs and history. Its key
    stays used (never reused) and profiles keep the last values as custom traits.
    Refused while another audience refers to it."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, WRITE_ACTION, computation, related=("space__workspace",)
        )
        users = [
            other.key
            for other in Computation.objects.filter(
                space_id=locked.space_id, kind=ComputationKind.AUDIENCE
            ).exclude(pk=locked.pk)
            if locked.key in _referenced(other)
        ]
        if users:
            raise FailedPrecondition(
                f"{NOUN[ComputationKind(locked.kind)]} {locked.key!r} is used by "
                f"audience(s) {sorted(users)}; change or delete them first"
            )
        audit.record(
            principal,
            ACTIONS[ComputationKind(locked.kind)][2],
            workspace=locked.space.workspace,
            resource_name=locked.resource_name,
            before=snapshot(locked),
        )
        locked.delete()


def _referenced(computation: Computation) -> frozenset[str]:
    refs = definitions.references(computation.definition)
    return refs.audiences | refs.traits


def do_request_run(*, principal: Principal, computation: Computation) -> ComputationRun:
    """The Refresh button / ``:compute``: a run now. A run already queued or
    running is answered instead of a second one."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, WRITE_ACTION, computation, related=("space__workspace",)
        )
        if not locked.enabled:
            raise FailedPrecondition(f"{NOUN[ComputationKind(locked.kind)]} is disabled")
        return computation_runs.queue_run(locked, RunTrigger.MANUAL)


@dataclass(frozen=True)
class Preview:
    size: int
    sample: list[str]  # segment ids
    compute_mode: str
    reasons: list[dict[str, str]]


def preview(
    *,
    principal: Principal,
    space: Space,
    kind: str,
    definition: object,
    key: str | None = None,
    now: dt.datetime | None = None,
    sample: int = PREVIEW_SAMPLE,
) -> Preview:
    """Size estimate before saving: ``count(*)`` over the same compiled query a
    run executes, at ``now``, and the first profiles of it (by id)."""
    _require_write(principal, space)  # those who may build audiences
    checked = check_definition(space, kind, definition, key=key)
    moment = now or timezone.now()
    try:
        if kind == ComputationKind.AUDIENCE:
            sql, params = audience_members(
                space.pk,
                checked.definition,
                moment,
                events_since=_events_since(space, checked.definition, key, moment),
            )
            column = "id"
        else:
            sql, params = trait_values(space.pk, checked.definition, moment)
            column = "profile_id"
    except CompileError as exc:
        raise InvalidArgument(f"definition: {exc}", field="definition") from exc
    profiles = Profile._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) q", params)  # noqa: S608 - compiled
        size = int(cursor.fetchone()[0])
        cursor.execute(
            f"SELECT p.segment_id FROM ({sql}) q JOIN {profiles} p ON p.id = q.{column} "  # noqa: S608
            f"ORDER BY q.{column} LIMIT %(preview_limit)s",
            {**params, "preview_limit": sample},
        )
        ids = [row[0] for row in cursor.fetchall()]
    reasons = [r.as_dict() for r in checked.reasons]
    return Preview(size=size, sample=ids, compute_mode=checked.mode, reasons=reasons)


def _events_since(
    space: Space, definition: dict[str, Any], key: str | None, moment: dt.datetime
) -> dt.datetime | None:
    """What a run would count for include_historical false: the events since the
    audience's creation, or, for one not saved yet, none before now (it starts
    empty and fills with new events: engage.md §5.3)."""
    if definition.get("include_historical") is not False:
        return None
    saved = Computation.objects.filter(space=space, key=key) if key else None
    created = saved.values_list("create_time", flat=True).first() if saved is not None else None
    return created or moment


def pending_run(computation: Computation) -> ComputationRun | None:
    return (
        ComputationRun.objects.filter(
            computation=computation, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
        )
        .order_by("pk")
        .first()
    )
