"""Standard privacy controls of a source: block the Inventory's Red and/or Yellow
fields at the Tracking API (Workspace Owners; audited).

A source without a ``SourceControls`` row blocks nothing; the first update
creates the row (concurrent first updates meet on its primary key, then take
turns on its lock). The ingest gate (``privacy.gate``) reads the row on every
request, so a change applies from the next request on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from connections.models import Source
from privacy.choices import AuditAction
from privacy.models import SourceControls
from switchyard import access, locking
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from switchyard.validation import clean_bool
from workspace.services import audit

FIELDS = ("block_red", "block_yellow")


def resource_name(source: Source) -> str:
    return f"workspaces/{source.workspace.slug}/sources/{source.slug}/privacy-controls"


def snapshot(controls: SourceControls) -> dict[str, Any]:
    return {f: getattr(controls, f) for f in FIELDS}


def do_update_source_controls(
    *, principal: Principal, source: Source, changes: Mapping[str, Any]
) -> SourceControls:
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidArgument(f"cannot update privacy controls field(s) {sorted(unknown)}")
    values = {f: clean_bool(v, field=f) for f, v in changes.items()}
    # Refused before anything is written (the row below would be created first).
    access.require(principal, "administer", source.workspace, write=True)
    with transaction.atomic():
        row, _ = SourceControls.objects.get_or_create(source=source)
        locked = locking.lock_for_update(principal, "change", row, write=True)
        before = snapshot(locked)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.PRIVACY_CONTROLS_UPDATED,
                workspace=source.workspace,
                resource_name=resource_name(source),
                before=before,
                after=snapshot(locked),
            )
    locked.source = source
    return locked
