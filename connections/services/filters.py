"""Destination filters: at most ten per destination, each checked whole by
connections.rules before it is stored."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connections.choices import AuditAction
from connections.models import Destination, DestinationFilter
from connections.rules import (
    FILTERS_PER_DESTINATION,
    FilterSpec,
    clean_filter_spec,
    filter_spec_from_json,
    filter_spec_to_json,
)
from connections.services.positions import next_position
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from switchyard.nested_edits import rebase
from workspace.services import audit

UPDATABLE = {"title", "description", "if", "actions", "enabled"}


def snapshot(row: DestinationFilter) -> dict[str, Any]:
    return {
        "title": row.title,
        "description": row.description,
        "if": row.condition,
        "actions": row.actions,
        "enabled": row.enabled,
    }


def _columns(spec: FilterSpec) -> dict[str, Any]:
    stored = filter_spec_to_json(spec)
    return {
        "title": stored["title"],
        "description": stored["description"],
        "condition": stored["if"],
        "actions": stored["actions"],
        "enabled": stored["enabled"],
    }


def _store(row: DestinationFilter, spec: FilterSpec) -> None:
    for name, value in _columns(spec).items():
        setattr(row, name, value)


def do_create_filter(
    *,
    principal: Principal,
    destination: Destination,
    title: object,
    if_: object,
    actions: object,
    description: object = "",
    enabled: object = True,
) -> DestinationFilter:
    access.require(principal, "change", destination)
    spec = clean_filter_spec(
        title=title, description=description, if_=if_, actions=actions, enabled=enabled
    )
    row = DestinationFilter(destination=destination, key_id=names.generate_id("flt", 12))
    _store(row, spec)
    with transaction.atomic():
        row.position = next_position(
            destination,
            DestinationFilter.objects.filter(destination=destination),
            limit=FILTERS_PER_DESTINATION,
            noun="filters",
        )
        row.save()
        audit.record(
            principal,
            AuditAction.DESTINATION_FILTER_CREATED,
            workspace=destination.source.workspace,
            resource_name=row.resource_name,
            after=snapshot(row),
        )
    return row


def do_update_filter(
    *, principal: Principal, row: DestinationFilter, changes: dict[str, Any]
) -> DestinationFilter:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", row, related=("destination__source__workspace",)
        )
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidArgument(f"cannot update filter field(s) {sorted(unknown)}")
        before = snapshot(locked)
        # The filter is checked whole: the changes over its current fields.
        fresh = {name: rebase(value, before.get(name)) for name, value in changes.items()}
        spec = filter_spec_from_json({**before, **fresh})
        if locking.save_changes(locked, _columns(spec)):
            audit.record_changes(
                principal,
                AuditAction.DESTINATION_FILTER_UPDATED,
                workspace=locked.destination.source.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_filter(*, principal: Principal, row: DestinationFilter) -> None:
    access.require(principal, "change", row)
    with transaction.atomic():
        audit.record(
            principal,
            AuditAction.DESTINATION_FILTER_DELETED,
            workspace=row.destination.source.workspace,
            resource_name=row.resource_name,
            before=snapshot(row),
        )
        row.delete()
