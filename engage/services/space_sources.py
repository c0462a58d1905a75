"""Connecting sources to a space (Unify settings > Profile sources): their events
build the space's profiles. The space's connection policy decides which may."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from connections.models import Source
from engage.choices import AuditAction
from engage.models import Space, SpaceSource
from engage.services.replay import start_replay
from engage.services.spaces import require_settings_access
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from workspace.services import audit


def resource_name(row: SpaceSource) -> str:
    return f"{row.space.resource_name}/sources/{row.source.slug}"


def policy_gaps(space: Space, source: Source) -> list[str]:
    """The labels the connection policy asks for that ``source`` lacks."""
    carried = {str(label) for label in source.labels.all()}
    return [label for label in space.required_labels if label not in carried]


def do_connect_source(
    *, principal: Principal, space: Space, source: Source, replay: bool = True
) -> SpaceSource:
    """Needs change on the space and sight of the source; the source must carry
    every label of the space's connection policy. ``replay`` (Segment's "Replay
    data", on by default) backfills the space with the source's last 30 days of
    stored events, oldest first, once the connection is committed."""
    require_settings_access(principal, space)
    if source.workspace_id != space.workspace_id:
        raise InvalidArgument("the source must be in the space's workspace", field="source")
    access.require(principal, "view", source)
    with transaction.atomic():
        locked = Space.objects.select_for_update(of=("self",)).get(pk=space.pk)
        missing = policy_gaps(locked, source)
        if missing:
            raise FailedPrecondition(
                f"the space's connection policy requires the label(s) {missing}, which "
                f"source {source.slug!r} does not carry",
                field="source",
            )
        duplicate = AlreadyExists(
            f"source {source.slug!r} is already connected to space {space.slug!r}",
            field="source",
        )
        if SpaceSource.objects.filter(space=locked, source=source).exists():
            raise duplicate
        try:
            with transaction.atomic():
                row = SpaceSource.objects.create(space=space, source=source)
        except IntegrityError as exc:
            raise duplicate from exc
        audit.record(
            principal,
            AuditAction.SPACE_SOURCE_CONNECTED,
            workspace=space.workspace,
            resource_name=resource_name(row),
            after={"source": source.resource_name, "replay": replay},
        )
        if replay:
            start_replay(row)
    return row


def do_disconnect_source(*, principal: Principal, connection: SpaceSource) -> None:
    """The space stops receiving the source's events; profiles built so far stay."""
    require_settings_access(principal, connection.space)
    with transaction.atomic():
        audit.record(
            principal,
            AuditAction.SPACE_SOURCE_DISCONNECTED,
            workspace=connection.space.workspace,
            resource_name=resource_name(connection),
            before={"source": connection.source.resource_name},
        )
        SpaceSource.objects.filter(pk=connection.pk).delete()
