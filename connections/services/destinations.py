"""Destination instances: a catalog definition connected to a source, with
settings checked against the definition's schema and, optionally, its presets
as the first mappings ("Quick Setup")."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connections import catalog
from connections.catalog import DestinationDefinition
from connections.choices import AuditAction
from connections.models import Destination, Source, Subscription
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import FailedPrecondition, InvalidArgument
from switchyard.nested_edits import rebase
from switchyard.validation import clean_bool, clean_text
from workspace.services import audit
from workspace.services.audit import REDACTED

DISPLAY_NAME_MAX = 100
# "You can connect a source to up to 25 instances of a destination if all of the
# instances use cloud-mode" (Segment); ours are all cloud-mode.
INSTANCES_PER_SOURCE_MAX = 25
UPDATABLE = {"display_name", "enabled", "settings"}


def definition_of(destination: Destination) -> DestinationDefinition:
    definition = catalog.destination(destination.definition)
    if definition is None:  # the catalog dropped an entry that is still in use
        raise FailedPrecondition(
            f"destination definition {destination.definition!r} is no longer in the catalog"
        )
    return definition


def clean_definition(value: object) -> DestinationDefinition:
    definition = catalog.destination(value) if isinstance(value, str) else None
    if definition is None:
        raise InvalidArgument(
            f"unknown destination definition {value!r}; see /v1beta/catalog/destinations",
            field="definition",
        )
    return definition


def public_settings(destination: Destination) -> dict[str, Any]:
    """Settings without secrets: the API never returns them (write-only)."""
    secrets = definition_of(destination).secret_settings
    return {k: v for k, v in destination.settings.items() if k not in secrets}


def snapshot(destination: Destination) -> dict[str, Any]:
    secrets = definition_of(destination).secret_settings
    return {
        "definition": destination.definition,
        "display_name": destination.display_name,
        "enabled": destination.enabled,
        "settings": {k: (REDACTED if k in secrets else v) for k, v in destination.settings.items()},
    }


def _merge_secrets(
    definition: DestinationDefinition, stored: dict[str, Any], incoming: object
) -> object:
    """Clients cannot read secrets back, so a settings object that leaves one out
    keeps the stored value; an explicit null clears it."""
    if not isinstance(incoming, dict):
        return incoming
    merged = dict(incoming)
    for name in definition.secret_settings:
        if name not in merged and name in stored:
            merged[name] = stored[name]
        elif name in merged and merged[name] is None:
            del merged[name]
    return merged


def _presets_to_create(definition: DestinationDefinition, presets: object) -> list[Any]:
    """``True``: all of the definition's presets; a list: those named; else none."""
    if presets is True:
        return list(definition.presets)
    if presets in (None, False):
        return []
    if not isinstance(presets, list) or not all(isinstance(p, str) for p in presets):
        raise InvalidArgument("presets must be true or a list of preset names", field="presets")
    by_name = {p.name: p for p in definition.presets}
    unknown = sorted(set(presets) - set(by_name))
    if unknown:
        raise InvalidArgument(
            f"unknown preset(s) {unknown} for {definition.name}; it offers {sorted(by_name)}",
            field="presets",
        )
    return [by_name[name] for name in presets]


def do_create_destination(
    *,
    principal: Principal,
    source: Source,
    definition: object,
    display_name: object = "",
    settings: object = None,
    enabled: object = False,
    presets: object = None,
) -> Destination:
    access.require(principal, "change", source)
    chosen = clean_definition(definition)
    name = clean_text(display_name or chosen.name, field="display_name", limit=DISPLAY_NAME_MAX)
    destination = Destination(
        source=source,
        key_id=names.generate_id("dst", 12),
        definition=chosen.slug,
        display_name=name,
        enabled=clean_bool(enabled, field="enabled"),
        settings=chosen.validate_settings({} if settings is None else settings),
    )
    to_create = _presets_to_create(chosen, presets)
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=source.pk).first()
        existing = Destination.objects.filter(source=source, definition=chosen.slug).count()
        if existing >= INSTANCES_PER_SOURCE_MAX:
            raise FailedPrecondition(
                f"a source connects to at most {INSTANCES_PER_SOURCE_MAX} instances of "
                f"{chosen.name}"
            )
        destination.save()
        audit.record(
            principal,
            AuditAction.DESTINATION_CREATED,
            workspace=source.workspace,
            resource_name=destination.resource_name,
            after=snapshot(destination),
        )
        for position, preset in enumerate(to_create):
            subscription = Subscription.objects.create(
                destination=destination,
                key_id=names.generate_id("sub", 12),
                name=preset.name,
                action=preset.action,
                trigger=preset.trigger,
                mapping=preset.mapping,
                enabled=True,  # Quick Setup mappings start on
                position=position,
            )
            audit.record(
                principal,
                AuditAction.SUBSCRIPTION_CREATED,
                workspace=source.workspace,
                resource_name=subscription.resource_name,
                after={"name": preset.name, "action": preset.action, "preset": True},
            )
    return destination


def do_update_destination(
    *, principal: Principal, destination: Destination, changes: dict[str, Any]
) -> Destination:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", destination, related=("source__workspace",)
        )
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidArgument(
                f"cannot update destination field(s) {sorted(unknown)}: "
                "the definition and source are fixed; create another destination instead"
            )
        definition = definition_of(locked)
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = clean_text(
                changes["display_name"], field="display_name", limit=DISPLAY_NAME_MAX
            )
        if "enabled" in changes:
            values["enabled"] = clean_bool(changes["enabled"], field="enabled")
        if "settings" in changes:
            # Nested edits apply to what clients can read: the settings without secrets.
            incoming = rebase(changes["settings"], public_settings(locked))
            merged = _merge_secrets(definition, locked.settings, incoming)
            values["settings"] = definition.validate_settings(merged)
        before = snapshot(locked)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.DESTINATION_UPDATED,
                workspace=locked.source.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_destination(*, principal: Principal, destination: Destination) -> None:
    access.require(principal, "delete", destination)
    with transaction.atomic():
        audit.record(
            principal,
            AuditAction.DESTINATION_DELETED,
            workspace=destination.source.workspace,
            resource_name=destination.resource_name,
            before=snapshot(destination),
        )
        destination.delete()
