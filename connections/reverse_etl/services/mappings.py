"""Reverse ETL mappings: a model's changed rows -> Track or Identify messages for
one destination of the workspace.

The column mapping names, per message field, the model column that fills it:
``{"properties.plan": "plan"}`` for a Track, ``{"traits.email": "email"}`` for an
Identify. The message (``message_for``) is what the destination's own mappings
(its subscriptions: the mapping kit's triggers and field directives) then turn
into requests, so a warehouse row reaches a destination as an event would.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connections.models import Destination
from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlMapping, RetlModel
from connections.reverse_etl.services.models import audit_record
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from switchyard.validation import clean_bool, clean_text

DISPLAY_NAME_MAX = 100
EVENT_NAME_MAX = 200
COLUMNS_MAX = 200
# A mapped field lives under the message's properties (Track) or traits (Identify).
FIELD_ROOT = {"track": "properties", "identify": "traits"}
UPDATABLE = {
    "display_name",
    "event_name",
    "user_id_column",
    "columns",
    "send_added",
    "send_updated",
    "send_deleted",
    "enabled",
}


def snapshot(mapping: RetlMapping) -> dict[str, Any]:
    return {
        "display_name": mapping.display_name,
        "model": mapping.model.slug,
        "destination": mapping.destination.key_id,
        "event_type": mapping.event_type,
        "event_name": mapping.event_name,
        "user_id_column": mapping.user_id_column,
        "columns": mapping.columns,
        "send_added": mapping.send_added,
        "send_updated": mapping.send_updated,
        "send_deleted": mapping.send_deleted,
        "enabled": mapping.enabled,
    }


def _clean_columns(value: object, event_type: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidArgument("columns must be an object of field -> column", field="columns")
    if len(value) > COLUMNS_MAX:
        raise InvalidArgument(f"at most {COLUMNS_MAX} mapped columns", field="columns")
    root = FIELD_ROOT[event_type]
    cleaned: dict[str, str] = {}
    for target, column in value.items():
        parts = str(target).split(".")
        if len(parts) != 2 or parts[0] != root or not parts[1]:
            raise InvalidArgument(
                f"mapped field {target!r} must be {root}.<name> for a {event_type} mapping",
                field="columns",
            )
        cleaned[str(target)] = clean_text(column, field=f"columns.{target}", limit=191)
    return cleaned


def _clean_event(event_type: object, event_name: object) -> tuple[str, str]:
    if event_type not in FIELD_ROOT:
        raise InvalidArgument("event_type must be track or identify", field="event_type")
    name = clean_text(event_name, field="event_name", limit=EVENT_NAME_MAX, required=False)
    if event_type == "track" and not name:
        raise InvalidArgument("a track mapping needs an event_name", field="event_name")
    return str(event_type), name


def do_create_mapping(
    *,
    principal: Principal,
    model: RetlModel,
    destination: Destination,
    display_name: object,
    event_type: object,
    event_name: object = "",
    user_id_column: object = "",
    columns: object = None,
    send_added: object = True,
    send_updated: object = True,
    send_deleted: object = False,
    enabled: object = True,
) -> RetlMapping:
    """Whoever may change the model adds mappings to it; the destination must be one
    of the model's workspace that the principal may read."""
    access.require(principal, "change", model, write=True)
    if destination.source.workspace_id != model.workspace_id:
        raise InvalidArgument("the destination is not in this workspace", field="destination")
    access.require(principal, "view", destination)
    kind, name = _clean_event(event_type, event_name)
    mapping = RetlMapping(
        key_id=names.generate_id("rmap"),
        workspace=model.workspace,
        model=model,
        destination=destination,
        display_name=clean_text(display_name, field="display_name", limit=DISPLAY_NAME_MAX),
        event_type=kind,
        event_name=name,
        user_id_column=clean_text(
            user_id_column, field="user_id_column", limit=191, required=False
        ),
        columns=_clean_columns(columns if columns is not None else {}, kind),
        send_added=clean_bool(send_added, field="send_added"),
        send_updated=clean_bool(send_updated, field="send_updated"),
        send_deleted=clean_bool(send_deleted, field="send_deleted"),
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
            "the model, destination and event type are immutable"
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
        if "event_name" in changes:
            values["event_name"] = _clean_event(locked.event_type, changes["event_name"])[1]
        if "user_id_column" in changes:
            values["user_id_column"] = clean_text(
                changes["user_id_column"], field="user_id_column", limit=191, required=False
            )
        if "columns" in changes:
            values["columns"] = _clean_columns(changes["columns"], locked.event_type)
        for flag in ("send_added", "send_updated", "send_deleted", "enabled"):
            if flag in changes:
                values[flag] = clean_bool(changes[flag], field=flag)
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
    base = snapshot(mapping)
    return do_create_mapping(
        principal=principal,
        model=mapping.model,
        destination=mapping.destination,
        display_name=f"{mapping.display_name} (copy)"[:DISPLAY_NAME_MAX],
        event_type=base["event_type"],
        event_name=base["event_name"],
        user_id_column=base["user_id_column"],
        columns=base["columns"],
        send_added=base["send_added"],
        send_updated=base["send_updated"],
        send_deleted=base["send_deleted"],
        enabled=False,
    )


def message_for(
    mapping: RetlMapping, record_id: str, change: str, row: dict[str, Any] | None, sync_key: str
) -> dict[str, Any]:
    """The Track or Identify message for one changed record. A deleted record has no
    row: its message carries the identifier, every mapped field as null (as Segment
    sends deletions) and ``context.reverse_etl.change``.
    The messageId is stable per (run, mapping, record) so a resent message dedupes."""
    values = row or {}
    user_column = mapping.user_id_column or mapping.model.identifier_column
    user_id = values.get(user_column, record_id) if row is not None else record_id
    root = FIELD_ROOT[mapping.event_type]
    fields: dict[str, Any] = {}
    for target, column in mapping.columns.items():
        if column in values or row is None:
            fields[target.split(".", 1)[1]] = values.get(column)
    message: dict[str, Any] = {
        "type": mapping.event_type,
        "messageId": f"retl-{sync_key}-{mapping.key_id}-{record_id}"[:200],
        "userId": str(user_id),
        root: fields,
        "context": {
            "reverse_etl": {"mapping": mapping.key_id, "record_id": record_id, "change": change}
        },
    }
    if mapping.event_type == "track":
        message["event"] = mapping.event_name
    return message
