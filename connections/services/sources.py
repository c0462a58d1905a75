"""Source writes: create (with a first write key), update, delete (which
disconnects its destinations)."""

from __future__ import annotations

from typing import Any

import orjson
from django.db import IntegrityError, transaction

from connections import catalog
from connections.choices import AuditAction
from connections.models import Source, SourceLabel
from connections.services import write_keys
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, InvalidArgument, PermissionDenied
from switchyard.nested_edits import rebase
from switchyard.validation import clean_bool, clean_text
from workspace.models import Label, Workspace
from workspace.services import audit

DISPLAY_NAME_MAX = 100
SETTINGS_MAX_BYTES = 16_384
UPDATABLE = {"display_name", "labels", "enabled", "settings"}


def snapshot(source: Source) -> dict[str, Any]:
    return {
        "slug": source.slug,
        "display_name": source.display_name,
        "source_type": source.source_type,
        "enabled": source.enabled,
        "settings": source.settings,
        "labels": sorted(str(label) for label in source.labels.all()),
    }


def clean_source_type(value: object) -> str:
    if not isinstance(value, str) or catalog.source_type(value) is None:
        known = ", ".join(t.slug for t in catalog.source_types())
        raise InvalidArgument(
            f"unknown source type {value!r}; choose one of the catalog's: {known}",
            field="source_type",
        )
    return value


def clean_settings(value: object) -> dict[str, Any]:
    """Source settings are free-form options for the libraries; bounded in size."""
    if not isinstance(value, dict):
        raise InvalidArgument("settings must be a JSON object", field="settings")
    if len(orjson.dumps(value)) > SETTINGS_MAX_BYTES:
        raise InvalidArgument(
            f"settings must be at most {SETTINGS_MAX_BYTES} bytes of JSON", field="settings"
        )
    return value


def _clean_display_name(value: object) -> str:
    return clean_text(value, field="display_name", limit=DISPLAY_NAME_MAX)


def resolve_labels(workspace: Workspace, values: object) -> list[Label]:
    """``["environment:prod", ...]`` -> catalogue labels, at most one value per key."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidArgument('labels must be a list like ["environment:prod"]', field="labels")
    wanted = set(values)
    found = {str(label): label for label in Label.objects.filter(workspace=workspace)}
    unknown = sorted(wanted - set(found))
    if unknown:
        raise InvalidArgument(
            f"unknown label(s) {unknown}: create them in the label catalogue first", field="labels"
        )
    labels = [found[v] for v in sorted(wanted)]
    keys = [label.key for label in labels]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidArgument(
            f"a source holds one value per label key; several given for {repeated}",
            field="labels",
        )
    return labels


def _set_labels(source: Source, labels: list[Label]) -> None:
    SourceLabel.objects.filter(source=source).delete()
    SourceLabel.objects.bulk_create(
        SourceLabel(source=source, label=label, key=label.key) for label in labels
    )


def do_create_source(
    *,
    principal: Principal,
    workspace: Workspace,
    slug: object,
    display_name: object,
    source_type: object = "http-api",
    enabled: object = True,
    settings: object = None,
    labels: object = (),
) -> Source:
    if not access.can_create(principal, "source", workspace):
        if principal.read_only:
            access.require(principal, "create", workspace)  # raises insufficient scope
        raise PermissionDenied(
            "creating sources needs Workspace Owner or Source Admin on all sources"
        )
    source = Source(
        workspace=workspace,
        slug=names.validate_slug(slug, field="name"),
        display_name=_clean_display_name(display_name),
        source_type=clean_source_type(source_type),
        enabled=clean_bool(enabled, field="enabled"),
        settings=clean_settings({} if settings is None else settings),
    )
    chosen = resolve_labels(workspace, list(labels) if isinstance(labels, tuple) else labels)
    try:
        with transaction.atomic():
            source.save()
            _set_labels(source, chosen)
            write_keys.create_first_key(source)
            audit.record(
                principal,
                AuditAction.SOURCE_CREATED,
                workspace=workspace,
                resource_name=source.resource_name,
                after=snapshot(source),
            )
    except IntegrityError as exc:
        raise AlreadyExists(
            f"source {source.resource_name!r} already exists", field="name"
        ) from exc
    return source


def do_update_source(*, principal: Principal, source: Source, changes: dict[str, Any]) -> Source:
    """Source Admins may change the sources they administer, labels included."""
    with transaction.atomic():
        locked = locking.lock_for_update(principal, "change", source, related=("workspace",))
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidArgument(
                f"cannot update source field(s) {sorted(unknown)}: the slug and type are immutable"
            )
        before = snapshot(locked)
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = _clean_display_name(changes["display_name"])
        if "enabled" in changes:
            values["enabled"] = clean_bool(changes["enabled"], field="enabled")
        if "settings" in changes:
            values["settings"] = clean_settings(rebase(changes["settings"], locked.settings))
        relabel = False
        if "labels" in changes:
            chosen = resolve_labels(locked.workspace, changes["labels"])
            relabel = sorted(str(label) for label in chosen) != before["labels"]
            if relabel:
                _set_labels(locked, chosen)
        if locking.save_changes(locked, values, touched=relabel):
            audit.record_changes(
                principal,
                AuditAction.SOURCE_UPDATED,
                workspace=locked.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_source(*, principal: Principal, source: Source) -> None:
    """Deleting a source disconnects (deletes) its destinations, each audited."""
    access.require(principal, "delete", source)
    with transaction.atomic():
        for destination in source.destinations.all():
            audit.record(
                principal,
                AuditAction.DESTINATION_DELETED,
                workspace=source.workspace,
                resource_name=destination.resource_name,
                before={"definition": destination.definition, "reason": "source deleted"},
            )
        audit.record(
            principal,
            AuditAction.SOURCE_DELETED,
            workspace=source.workspace,
            resource_name=source.resource_name,
            before=snapshot(source),
        )
        source.delete()
