"""Destination filters: at most ten per destination, each checked whole by
connections.filtering before it is stored."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connections import filtering
from connections.models import Destination, DestinationFilter
from connections.services.positions import next_position
from switchyard import access, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
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


def _store(row: DestinationFilter, spec: filtering.FilterSpec) -> None:
    stored = filtering.filter_spec_to_json(spec)
    row.title = stored["title"]
    row.description = stored["description"]
    row.condition = stored["if"]
    row.actions = stored["actions"]
    row.enabled = stored["enabled"]


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
    spec = filtering.clean_filter_spec(
        title=title, description=description, if_=if_, actions=actions, enabled=enabled
    )
    row = DestinationFilter(destination=destination, key_id=names.generate_id("flt", 12))
    _store(row, spec)
    with transaction.atomic():
        row.position = next_position(
            destination,
            DestinationFilter.objects.filter(destination=destination),
            limit=filtering.FILTERS_PER_DESTINATION,
            noun="filters",
        )
        row.save()
        audit.record(
            principal,
            "destination_filter.created",
            workspace=destination.source.workspace,
            resource_name=row.resource_name,
            after=snapshot(row),
        )
    return row


def do_update_filter(
    *, principal: Principal, row: DestinationFilter, changes: dict[str, Any]
) -> DestinationFilter:
    access.require(principal, "change", row)
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(f"cannot update filter field(s) {sorted(unknown)}")
    before = snapshot(row)
    spec = filtering.filter_spec_from_json({**before, **changes})
    _store(row, spec)
    with transaction.atomic():
        row.save()
        audit.record_changes(
            principal,
            "destination_filter.updated",
            workspace=row.destination.source.workspace,
            resource_name=row.resource_name,
            before=before,
            after=snapshot(row),
        )
    return row


def do_delete_filter(*, principal: Principal, row: DestinationFilter) -> None:
    access.require(principal, "change", row)
    with transaction.atomic():
        audit.record(
            principal,
            "destination_filter.deleted",
            workspace=row.destination.source.workspace,
            resource_name=row.resource_name,
            before=snapshot(row),
        )
        row.delete()
