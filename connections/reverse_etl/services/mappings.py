"""Reverse ETL mappings: a model's changes -> one action of a destination.

A mapping names an ``action`` of the destination's catalog definition, the
``field_mappings`` that fill the action's fields (the mapping kit's directives,
checked as connections' own subscriptions are: ``ActionDef.validate_mapping``),
which changes it sends (``record_selection``), and defaults its name to the
action's name. Each selected change becomes a message (``message_for``) shaped
like Segment's Reverse ETL events, so directives read a model column as
``$.properties.<column>``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connections.catalog import ActionDef
from connections.models import Destination
from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlMapping, RetlModel
from connections.reverse_etl.services.models import audit_record
from connections.services.destinations import definition_of
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from switchyard.nested_edits import rebase
from switchyard.validation import clean_bool, clean_text

DISPLAY_NAME_MAX = 100
UPDATABLE = {"display_name", "field_mappings", "record_selection", "enabled"}
# Segment's Reverse ETL event names per change.
EVENT_OF_CHANGE = {"added": "new", "updated": "updated", "deleted": "deleted"}
Selection = RetlMapping.RecordSelection


def snapshot(mapping: RetlMapping) -> dict[str, Any]:
    return {
        "display_name": mapping.display_name,
        "model": mapping.model.slug,
        "destination": mapping.destination.key_id,
        "action": mapping.action,
        "field_mappings": mapping.field_mappings,
        "record_selection": mapping.record_selection,
        "enabled": mapping.enabled,
    }


def clean_action(destination: Destination, value: object) -> ActionDef:
    """An action of the destination's definition, or 400 naming what it offers."""
    definition = definition_of(destination)
    action = definition.action(value) if isinstance(value, str) else None
    if action is None:
        offered = ", ".join(a.key for a in definition.actions)
        raise InvalidArgument(
            f"unknown action {value!r} for {definition.name}; it offers: {offered}",
            field="action",
        )
    return action


def clean_field_mappings(action: ActionDef, value: object) -> dict[str, Any]:
    problems = action.validate_mapping(value)
    if problems:
        raise InvalidArgument(
            f"invalid field mappings for action {action.name!r}: " + "; ".join(problems),
            field="field_mappings",
        )
    assert isinstance(value, dict)
    return value


def _with_defaults(action: ActionDef, value: object) -> object:
    """The action's default field mappings (the catalog's), with the given ones
    over them: a field given null drops its default."""
    if value is None:
        return action.default_mapping()
    if not isinstance(value, dict):
        return value  # refused by clean_field_mappings
    merged = {**action.default_mapping(), **value}
    return {key: v for key, v in merged.items() if v is not None}


def clean_record_selection(value: object) -> str:
    if value not in Selection.values:
        raise InvalidArgument(
            f"record_selection must be one of {', '.join(Selection.values)}",
            field="record_selection",
        )
    return str(value)


def sends(mapping: RetlMapping, change: str) -> bool:
    """Whether the mapping's record selection sends this change."""
    return change in RetlMapping.SENDS[mapping.record_selection]


def do_create_mapping(
    *,
    principal: Principal,
    model: RetlModel,
    destination: Destination,
    action: object,
    display_name: object = "",
    field_mappings: object = None,
    record_selection: object = Selection.ADDED_OR_UPDATED,
    enabled: object = True,
) -> RetlMapping:
    """Whoever may change the model adds mappings to it; the destination must be one
    of the model's workspace that the principal may read. The given field mappings
    go over the action's defaults (the catalog's; null drops one); without a name,
    the action's."""
    access.require(principal, "change", model, write=True)
    if destination.source.workspace_id != model.workspace_id:
        raise InvalidArgument("the destination is not in this workspace", field="destination")
    access.require(principal, "view", destination)
    chosen = clean_action(destination, action)
    mapping = RetlMapping(
        key_id=names.generate_id("rmap"),
        workspace=model.workspace,
        model=model,
        destination=destination,
        display_name=clean_text(
            display_name or chosen.name, field="display_name", limit=DISPLAY_NAME_MAX
        ),
        action=chosen.key,
        field_mappings=clean_field_mappings(chosen, _with_defaults(chosen, field_mappings)),
        record_selection=clean_record_selection(record_selection),
        enabled=clean_bool(enabled, field="enabled"),
    )
    with transaction.atomic():
        mapping.save()
        audit_record(principal, AuditAction.RETL_MAPPING_CREATED, mapping, after=snapshot(mapping))
    return mapping


def do_update_mapping(
    *, principal: Principal, mapping: RetlMapping, changes: dict[str, Any]
) -> RetlMapping:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(
            f"cannot update mapping field(s) {sorted(unknown)}: "
            "the model, destination and action are immutable"
        )
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", mapping, related=("workspace", "model", "destination")
        )
        before = snapshot(locked)
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = clean_text(
                changes["display_name"], field="display_name", limit=DISPLAY_NAME_MAX
            )
        if "field_mappings" in changes:
            action = clean_action(locked.destination, locked.action)
            values["field_mappings"] = clean_field_mappings(
                action, rebase(changes["field_mappings"], locked.field_mappings)
            )
        if "record_selection" in changes:
            values["record_selection"] = clean_record_selection(changes["record_selection"])
        if "enabled" in changes:
            values["enabled"] = clean_bool(changes["enabled"], field="enabled")
        changed = [k for k, v in values.items() if getattr(locked, k) != v]
        if changed:
            for key in changed:
                setattr(locked, key, values[key])
            locked.save(update_fields=[*changed, "update_time"])
            audit_record(
                principal,
                AuditAction.RETL_MAPPING_UPDATED,
                locked,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_mapping(*, principal: Principal, mapping: RetlMapping) -> None:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", mapping, write=True, related=("workspace", "model", "destination")
        )
        before = snapshot(locked)
        audit_record(principal, AuditAction.RETL_MAPPING_DELETED, locked, before=before)
        locked.delete()


def do_duplicate_mapping(*, principal: Principal, mapping: RetlMapping) -> RetlMapping:
    """Segment's "Duplicate mapping": the same settings, disabled, named "(copy)"; it
    has its own snapshot, so its first run sends every row."""
    return do_create_mapping(
        principal=principal,
        model=mapping.model,
        destination=mapping.destination,
        action=mapping.action,
        display_name=f"{mapping.display_name} (copy)"[:DISPLAY_NAME_MAX],
        field_mappings=mapping.field_mappings,
        record_selection=mapping.record_selection,
        enabled=False,
    )


def message_for(
    mapping: RetlMapping,
    record_id: str,
    change: str,
    row: dict[str, Any] | None,
    sync_key: str,
    columns: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The message the field mappings read for one changed record, shaped like
    Segment's Reverse ETL events: a Track named ``new`` / ``updated`` /
    ``deleted`` whose ``properties`` are the row's columns. A deleted record has
    no row: every column of the model (``columns``) is null except the
    identifier (as Segment sends deletions)."""
    return Messages(mapping, sync_key).make(record_id, change, row, columns)


class Messages:
    """``message_for`` for the many records of one run: what every message of the
    run shares, looked up once."""

    def __init__(self, mapping: RetlMapping, sync_key: str) -> None:
        self.mapping_key = mapping.key_id
        self.model_key = mapping.model.key_id
        self.identifier = mapping.model.identifier_column
        self.sync_key = sync_key
        self.prefix = f"retl-{sync_key}-{mapping.key_id}-"

    def make(
        self,
        record_id: str,
        change: str,
        row: dict[str, Any] | None,
        columns: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        if row is None:
            properties: dict[str, Any] = dict.fromkeys(columns)
            properties[self.identifier] = record_id
        else:
            properties = row
        return {
            "type": "track",
            "event": EVENT_OF_CHANGE.get(change, change),
            # Stable per (run, mapping, record): a message resent after a crash dedupes.
            "messageId": (self.prefix + record_id)[:200],
            "properties": properties,
            "context": {
                "reverse_etl": {
                    "mapping": self.mapping_key,
                    "model": self.model_key,
                    "sync": self.sync_key,
                    "record_id": record_id,
                    "change": change,
                }
            },
        }
