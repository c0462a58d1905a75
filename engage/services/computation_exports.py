"""CSV downloads of an audience's members or a computed trait's values (engage.md
§5.6). A request names the format (Formatted: a column per external id and per
trait; Unformatted: segment_id, external ids JSON, traits JSON), the external id
types and the traits; ``build_export`` (the Celery task ``engage.export_computation``)
writes the snapshot of the current members into the row, 1,000 members at a time
with its progress saved. Limits: one export of a computation at a time and one
every five minutes. The file is built through the requester's PII mask, so only the
requester downloads it. Exports older than ``KEEP`` are deleted when the next one
of their space is asked for."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engage import task_names
from engage.choices import AuditAction
from engage.models import (
    Computation,
    ComputationExport,
    ComputationKind,
    ComputationMember,
    ExportFormat,
    ExportStatus,
    Profile,
    ProfileIdentifier,
)
from switchyard import access, locking, masking, names
from switchyard.access import Action, Principal
from switchyard.celery import app
from switchyard.errors import FailedPrecondition, InvalidArgument
from workspace.services import audit

WRITE_ACTION: Action = "change"  # those who build audiences export them
EVERY = dt.timedelta(minutes=5)
STALE = dt.timedelta(minutes=30)  # a QUEUED/RUNNING export without news for this long died
KEEP = dt.timedelta(days=7)
CHUNK = 1000
MAX_COLUMNS = 50
TRAIT_MAX = 255
RUNNING = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def _clean_list(values: Sequence[object], field: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        if not text or len(text) > TRAIT_MAX:
            raise InvalidArgument(
                f"{field}: each must be a name of 1 to {TRAIT_MAX} characters", field=field
            )
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_COLUMNS:
        raise InvalidArgument(f"{field}: at most {MAX_COLUMNS}", field=field)
    return cleaned


def do_request_export(
    *,
    principal: Principal,
    computation: Computation,
    format: str,
    identifiers: Sequence[object] = (),
    traits: Sequence[object] = (),
    now: dt.datetime | None = None,
) -> ComputationExport:
    """Queue a CSV of the computation's current members. Refused while another
    export of it is queued or running, and within five minutes of the last one."""
    if format not in ExportFormat.values:
        raise InvalidArgument("format must be formatted or unformatted", field="format")
    id_types = _clean_list(identifiers, "identifiers")
    trait_keys = _clean_list(traits, "traits")
    moment = now or timezone.now()
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, WRITE_ACTION, computation, related=("space__workspace",)
        )
        recent = ComputationExport.objects.filter(computation=locked)
        # An export without news for STALE died with its worker: it no longer blocks.
        recent.filter(status__in=RUNNING, create_time__lt=moment - STALE).update(
            status=ExportStatus.FAILED, failure="stopped: no progress for 30 minutes"
        )
        if recent.filter(status__in=RUNNING).exists():
            raise FailedPrecondition(
                "an export of this one is already being prepared; download it when it is "
                "ready (one export at a time)"
            )
        last = recent.order_by("-create_time").values_list("create_time", flat=True).first()
        if last is not None and moment - last < EVERY:
            wait = int((last + EVERY - moment).total_seconds()) + 1
            raise FailedPrecondition(f"one export every five minutes: try again in {wait} seconds")
        ComputationExport.objects.filter(
            computation__space_id=locked.space_id, create_time__lt=moment - KEEP
        ).delete()
        export = ComputationExport.objects.create(
            computation=locked,
            key_id=names.generate_id("exp", 24),
            format=format,
            identifiers=id_types,
            traits=trait_keys,
            requested_by=principal.user if principal.user.is_authenticated else None,
        )
        ComputationExport.objects.filter(pk=export.pk).update(create_time=moment)
        audit.record(
            principal,
            AuditAction.COMPUTATION_EXPORT_REQUESTED,
            workspace=locked.space.workspace,
            resource_name=f"{locked.resource_name}/exports/{export.key_id}",
            after={"format": format, "identifiers": id_types, "traits": trait_keys},
        )
        transaction.on_commit(
            lambda: app.send_task(task_names.EXPORT_COMPUTATION, args=[export.pk])
        )
    export.refresh_from_db()
    return export


def header(export: ComputationExport, kind: str, key: str) -> list[str]:
    if export.format == ExportFormat.UNFORMATTED:
        return ["segment_id", "external_ids", "traits"]
    value = [key] if kind == ComputationKind.TRAIT and key not in export.traits else []
    return ["segment_id", *export.identifiers, *value, *export.traits]


def build_export(export_id: int) -> dict[str, Any]:
    """Write the export's CSV: the current members (by profile id), 1,000 a
    transaction with ``processed`` saved. A finished or failed export is left alone."""
    with transaction.atomic():
        export = (
            ComputationExport.objects.select_for_update(of=("self",))
            .select_related("computation__space", "requested_by")
            .filter(pk=export_id)
            .first()
        )
        if export is None or export.status not in RUNNING:
            return {"export": export_id, "skipped": True}
        members = ComputationMember.objects.filter(computation_id=export.computation_id)
        export.status = ExportStatus.RUNNING
        export.rows = members.count()
        export.processed = 0
        export.save(update_fields=["status", "rows", "processed"])
    try:
        content, written = _write(export)
    except Exception as exc:  # any failure is the export's, shown on the page
        ComputationExport.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
            status=ExportStatus.FAILED,
            failure=f"{type(exc).__name__}: {exc}"[:500],
            finish_time=timezone.now(),
        )
        return {"export": export_id, "failed": True}
    ComputationExport.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.READY,
        content=content,
        processed=written,
        rows=written,
        finish_time=timezone.now(),
    )
    return {"export": export_id, "rows": written}


def _mask(export: ComputationExport) -> masking.Mask:
    user = export.requested_by or User()
    return masking.mask_for(Principal(user), export.computation.space.workspace_id)


def _write(export: ComputationExport) -> tuple[str, int]:
    computation = export.computation
    mask = _mask(export)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header(export, computation.kind, computation.key))
    after = 0
    written = 0
    while True:
        chunk = list(
            ComputationMember.objects.filter(computation_id=computation.pk, profile_id__gt=after)
            .order_by("profile_id")
            .values_list("profile_id", "value")[:CHUNK]
        )
        if not chunk:
            break
        ids = [pid for pid, _ in chunk]
        profiles = dict(Profile.objects.filter(pk__in=ids).values_list("pk", "segment_id"))
        traits_of = dict(Profile.objects.filter(pk__in=ids).values_list("pk", "traits"))
        external = _external_ids(ids, export.identifiers, mask)
        for pid, value in chunk:
            traits = _traits(traits_of.get(pid) or {}, export.traits, mask)
            if computation.kind == ComputationKind.TRAIT:
                shown = _traits({computation.key: value}, [computation.key], mask)
                traits = {**shown, **traits}
            writer.writerow(_row(export, profiles.get(pid, ""), external.get(pid, {}), traits))
        written += len(chunk)
        after = chunk[-1][0]
        ComputationExport.objects.filter(pk=export.pk).update(processed=written)
    return out.getvalue(), written


def _external_ids(
    ids: list[int], types: list[str], mask: masking.Mask
) -> dict[int, dict[str, list[str]]]:
    found: dict[int, dict[str, list[str]]] = {}
    if not types:
        return found
    rows = (
        ProfileIdentifier.objects.filter(profile_id__in=ids, type__in=types)
        .order_by("profile_id", "type", "value")
        .values_list("profile_id", "type", "value")
    )
    for pid, type_, value in rows:
        shown = value
        if mask.active:
            shown = str(mask.event({"traits": {type_: value}}).get("traits", {}).get(type_, value))
        found.setdefault(pid, {}).setdefault(type_, []).append(shown)
    return found


def _traits(stored: dict[str, Any], keys: list[str], mask: masking.Mask) -> dict[str, Any]:
    chosen = {k: stored[k] for k in keys if k in stored}
    if mask.active and chosen:
        chosen = dict(mask.event({"traits": chosen}).get("traits", chosen))
    return chosen


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _row(
    export: ComputationExport,
    segment_id: str,
    external: dict[str, list[str]],
    traits: dict[str, Any],
) -> list[str]:
    if export.format == ExportFormat.UNFORMATTED:
        return [
            segment_id,
            json.dumps(external, sort_keys=True),
            json.dumps(traits, sort_keys=True),
        ]
    computation = export.computation
    value_column = (
        [computation.key]
        if computation.kind == ComputationKind.TRAIT and computation.key not in export.traits
        else []
    )
    cells = [segment_id]
    cells += [", ".join(external.get(t, [])) for t in export.identifiers]
    cells += [_cell(traits.get(k)) for k in [*value_column, *export.traits]]
    return cells


def recent_exports(computation: Computation, limit: int = 5) -> list[ComputationExport]:
    return list(
        ComputationExport.objects.filter(computation=computation)
        .select_related("requested_by")
        .defer("content")
        .order_by("-create_time", "-pk")[:limit]
    )


def downloadable(principal: Principal, export: ComputationExport) -> bool:
    """Only the requester downloads (the file went through their PII mask), while
    they may still see the computation."""
    return (
        export.status == ExportStatus.READY
        and export.requested_by_id is not None
        and export.requested_by_id == principal.user.pk
        and access.can(principal, "view", export.computation)
    )
