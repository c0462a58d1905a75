"""Connecting audiences and computed traits to event destinations (engage.md §5.8):
connect, change the sync settings, disconnect; and whether a batch computation
computes at all (§5.5 NOT_COMPUTING).

Whoever may edit the computation (``change`` on its space: Engage Users, Unify and
Engage Admins, owners) may connect it to any destination of the space's workspace
(as in Segment, an Engage User needs no Connections role for that).
A destination of a source that feeds a space cannot be connected: its messages
would come back as events of the space's profiles (Segment: "create a new
instance with the Engage space as its source"); nor one whose source has another
enabled destination of its catalog type (the ``integrations`` object names a type,
so that one would get the messages too: ``computation_sync.AmbiguousDestination``).
A new connection's first sync is the backfill of every current member / value,
queued after the commit (``destination_syncs``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet

from connections.models import Destination
from engage.choices import AuditAction
from engage.models import (
    Computation,
    ComputationDestination,
    ComputationKind,
    ComputationMode,
    ComputationStatus,
    RunTrigger,
    SpaceSource,
    SyncState,
)
from engage.services import computation_runs, computation_sync, destination_syncs
from engage.services.computation_runs import computing_q
from switchyard import locking
from switchyard.access import Action, Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from switchyard.validation import clean_text
from workspace.services import audit

WRITE_ACTION: Action = "change"  # as editing the computation (engage.services.computations)
EVENT_NAME_MAX = 200
BOOLEANS = ("send_identify", "send_track", "include_anonymous")
EVENT_NAMES = ("entered_event", "exited_event", "trait_event")
SETTINGS = BOOLEANS + EVENT_NAMES


# -- computing or not (§5.5) --------------------------------------------------------------------


def computes(computation: Computation) -> bool:
    if computation.compute_mode == ComputationMode.REALTIME:
        return True
    if computation.compute_without_destinations:
        return True
    return ComputationDestination.objects.filter(computation=computation).exists()


def refresh_status(computation: Computation) -> None:
    """After a change of destinations or of the flag (row locked by the caller): an
    enabled batch computation that stopped computing is NOT_COMPUTING; one that
    starts again is PREPARING with a run queued after the commit."""
    if not computation.enabled or computation.compute_mode != ComputationMode.BATCH:
        return
    if computes(computation):
        if computation.status == ComputationStatus.NOT_COMPUTING:
            locking.save_changes(computation, {"status": ComputationStatus.PREPARING})
            computation_runs.queue_run(computation, RunTrigger.EDIT)
    elif computation.status != ComputationStatus.NOT_COMPUTING:
        locking.save_changes(computation, {"status": ComputationStatus.NOT_COMPUTING})


# -- settings -------------------------------------------------------------------------------


def clean_settings(values: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """``current`` with ``values`` applied, checked: booleans, event names (1-200
    characters), and at least one of Identify or Track."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise InvalidArgument(f"unknown setting(s) {sorted(unknown)}")
    cleaned = dict(current)
    for name in BOOLEANS:
        if name in values:
            if not isinstance(values[name], bool):
                raise InvalidArgument(f"{name} must be true or false", field=name)
            cleaned[name] = values[name]
    for name in EVENT_NAMES:
        if name in values:
            cleaned[name] = clean_text(values[name], field=name, limit=EVENT_NAME_MAX)
    if not cleaned["send_identify"] and not cleaned["send_track"]:
        raise InvalidArgument(
            "turn on send_identify or send_track: the destination would get nothing",
            field="send_identify",
        )
    return cleaned


def settings_of(connection: ComputationDestination) -> dict[str, Any]:
    return {name: getattr(connection, name) for name in SETTINGS}


DEFAULTS = settings_of(ComputationDestination())


def snapshot(connection: ComputationDestination) -> dict[str, Any]:
    return {"destination": connection.destination.key_id, **settings_of(connection)}


def _action(computation: Computation, verb: str) -> AuditAction:
    prefix = "AUDIENCE" if computation.kind == ComputationKind.AUDIENCE else "COMPUTED_TRAIT"
    return AuditAction[f"{prefix}_DESTINATION_{verb}"]


# -- writes ---------------------------------------------------------------------------------


def connectable(principal: Principal, computation: Computation) -> QuerySet[Destination]:
    """The destinations ``principal`` may connect to ``computation``: of the space's
    workspace, on a source that feeds no space, not yet connected (one sharing its
    source with another of its type is refused by ``do_connect_destination``)."""
    feeding = SpaceSource.objects.filter(source_id=OuterRef("source_id"))
    connected = ComputationDestination.objects.filter(
        computation=computation, destination_id=OuterRef("pk")
    )
    rows = Destination.objects.filter(source__workspace_id=computation.space.workspace_id)
    return (
        rows.exclude(Exists(feeding))
        .exclude(Exists(connected))
        .select_related("source")
        .order_by("display_name", "pk")
    )


def _destination(principal: Principal, computation: Computation, key: object) -> Destination:
    if not isinstance(key, str) or not key:
        raise InvalidArgument("destination must be a destination id", field="destination")
    rows = Destination.objects.filter(source__workspace_id=computation.space.workspace_id)
    found = rows.filter(key_id=key).first()
    if found is None:
        raise NotFound(f"destination {key!r} not found", field="destination")
    if SpaceSource.objects.filter(source_id=found.source_id).exists():
        raise FailedPrecondition(
            f"destination {key!r} is on a source connected to a space: its messages would "
            "come back as the space's events; connect a destination of a source of its own",
            field="destination",
        )
    name = computation_sync.destination_name(found)
    for other in Destination.objects.filter(source_id=found.source_id, enabled=True).exclude(
        pk=found.pk
    ):
        if computation_sync.destination_name(other) == name:
            raise FailedPrecondition(
                f"destination {key!r} shares its source with {other.key_id}, of the same type "
                f"({name}): the messages' integrations object could not keep them from it; "
                "connect a destination of a source of its own",
                field="destination",
            )
    return found


def do_connect_destination(
    *,
    principal: Principal,
    computation: Computation,
    destination: object,
    settings: dict[str, Any] | None = None,
) -> ComputationDestination:
    """Connect a destination; its backfill (every current member / value) is
    queued after the commit. A batch computation NOT_COMPUTING starts computing."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, WRITE_ACTION, computation, related=("space__workspace",)
        )
        target = _destination(principal, locked, destination)
        values = clean_settings(settings or {}, DEFAULTS)
        if ComputationDestination.objects.filter(computation=locked, destination=target).exists():
            raise AlreadyExists(
                f"destination {target.key_id!r} is already connected", field="destination"
            )
        try:
            with transaction.atomic():
                connection = ComputationDestination.objects.create(
                    computation=locked,
                    destination=target,
                    created_by=principal.user if principal.user.is_authenticated else None,
                    **values,
                )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"destination {target.key_id!r} is already connected", field="destination"
            ) from exc
        audit.record(
            principal,
            _action(locked, "CONNECTED"),
            workspace=locked.space.workspace,
            resource_name=connection.resource_name,
            after=snapshot(connection),
        )
        refresh_status(locked)
        destination_syncs.queue_sync(connection)
    return connection


def do_update_destination(
    *, principal: Principal, connection: ComputationDestination, changes: dict[str, Any]
) -> ComputationDestination:
    """Change a connection's settings; the next sync uses them (what was sent
    stays sent)."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            WRITE_ACTION,
            connection,
            related=("computation__space__workspace", "destination"),
            subject=lambda c: c.computation,
        )
        before = snapshot(locked)
        values = clean_settings(changes, settings_of(locked))
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                _action(locked.computation, "UPDATED"),
                workspace=locked.computation.space.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_disconnect_destination(*, principal: Principal, connection: ComputationDestination) -> None:
    """Stop syncing to a destination (what it got stays there). A batch computation
    left without destinations and not computed without them is NOT_COMPUTING."""
    with transaction.atomic():
        computation = locking.lock_for_update(
            principal,
            WRITE_ACTION,
            connection.computation,
            related=("space__workspace",),
        )
        locked = (
            ComputationDestination.objects.select_for_update()
            .select_related("destination")
            .filter(pk=connection.pk)
            .first()
        )
        if locked is None:
            raise NotFound("destination not connected")
        locked.computation = computation
        audit.record(
            principal,
            _action(computation, "DISCONNECTED"),
            workspace=computation.space.workspace,
            resource_name=locked.resource_name,
            before=snapshot(locked),
        )
        locked.delete()
        refresh_status(computation)


def initial_status(computation: Computation) -> str:
    """A new computation's status: NOT_COMPUTING for a batch one that neither has
    destinations nor computes without them."""
    if computation.enabled and not computes(computation):
        return ComputationStatus.NOT_COMPUTING
    return computation.status


__all__ = [
    "SyncState",
    "computes",
    "computing_q",
    "do_connect_destination",
    "do_disconnect_destination",
    "do_update_destination",
]
