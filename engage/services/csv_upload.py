"""Profiles CSV upload (Unify > Profile explorer > Add Profiles): each row becomes an
internal identify call (its identifier columns as identifiers, the other columns as
custom traits) applied through identity resolution.

The file is checked at upload (file-level rules: type, size, header) and then, in
the worker, row by row; a file with any bad row applies nothing (its errors are
listed), a good one is applied in chunks whose progress the page polls.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
import unicodedata
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from engage import task_names
from engage.choices import AuditAction
from engage.models import CsvUpload, IdentifierSetting, Space, UploadStatus
from engage.services import resolution
from switchyard import access, names
from switchyard.access import Principal
from switchyard.errors import FailedPrecondition, InvalidArgument
from workspace.services import audit

logger = logging.getLogger(__name__)

MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 299
MAX_ERRORS_KEPT = 100  # listed on the page; error_count has them all
IDENTIFIER_MAX = 1024  # ProfileIdentifier.value
CHUNK = 1000  # rows applied (and progress saved) per transaction
# Seconds of applying per task run, well inside the task's time limit (engage.tasks).
RUN_BUDGET = 1800.0
HISTORY = dt.timedelta(days=30)
DEFAULT_IDENTIFIERS = ("user_id", "email", "anonymous_id")
# Besides letters (any script, with their combining marks) and digits.
HEADER_PUNCTUATION = frozenset(" _-.")


def identifier_types(space: Space) -> list[str]:
    """The identifier columns a file may carry: the space's configured identifier
    types in priority order (the defaults while none are configured)."""
    configured = list(
        IdentifierSetting.objects.filter(space=space)
        .order_by("priority", "type")
        .values_list("type", flat=True)
    )
    return configured or list(DEFAULT_IDENTIFIERS)


def template_csv(space: Space) -> str:
    """The downloadable template: a header of the space's identifier columns."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(identifier_types(space))
    return out.getvalue()


def _header_error(name: str) -> str | None:
    if not name:
        return "A column header is empty."
    if name != name.strip(" "):
        return f"Column header {name!r} starts or ends with a space."
    if "  " in name:
        return f"Column header {name!r} has consecutive spaces."
    for char in name:
        if char in HEADER_PUNCTUATION or char.isdigit():
            continue
        if unicodedata.category(char)[0] in "LM":
            continue
        return f"Column header {name!r} has a character that is not allowed: {char!r}."
    return None


def _reader(content: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(content, newline=""), strict=True)


def check_header(space: Space, content: str) -> list[str]:
    """The header's columns, or InvalidArgument (field ``file``) saying what is wrong
    with the file as a whole."""
    rows = _reader(content)
    try:
        header = next(rows, None)
        first = next(rows, None)
    except csv.Error as exc:
        raise InvalidArgument(f"The file could not be parsed as CSV: {exc}.", field="file") from exc
    if header is None or header == [] or first is None:
        raise InvalidArgument(
            "The file is empty: it needs a header and at least one row.", field="file"
        )
    if len(header) > MAX_COLUMNS:
        raise InvalidArgument(
            f"Your CSV file is exceeding the limit of {MAX_COLUMNS} columns.", field="file"
        )
    for name in header:
        problem = _header_error(name)
        if problem:
            raise InvalidArgument(problem, field="file")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InvalidArgument(f"Column header {name!r} appears more than once.", field="file")
        seen.add(name)
    allowed = identifier_types(space)
    if not seen.intersection(allowed):
        raise InvalidArgument(
            "The file needs an identifier column (one of: " + ", ".join(allowed) + ").",
            field="file",
        )
    return header


def do_upload_profiles_csv(
    *, principal: Principal, space: Space, file_name: str, data: bytes
) -> CsvUpload:
    """Store an upload and queue its validation and processing; file-level errors
    (type, size, encoding, header) are raised here and nothing is stored."""
    # "create": adding profiles is a Unify write, which Engage Users (who may
    # "change" Engage objects of a space) are not given.
    access.require(principal, "create", space)
    if space.delete_time is not None:
        raise FailedPrecondition("This space is being deleted: cancel the deletion first.")
    if not file_name.lower().endswith(".csv"):
        raise InvalidArgument("Upload a .csv file.", field="file")
    if len(data) > MAX_BYTES:
        raise InvalidArgument("The file is larger than 100 MB.", field="file")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument("The file is not UTF-8 text.", field="file") from exc
    header = check_header(space, content)
    with transaction.atomic():
        upload = CsvUpload.objects.create(
            space=space,
            key_id=names.generate_id("csv_"),
            file_name=file_name[:255],
            size=len(data),
            content=content,
            columns=header,
            created_by=principal.user if principal.user.is_authenticated else None,
        )
        audit.record(
            principal,
            AuditAction.PROFILES_CSV_UPLOADED,
            workspace=space.workspace,
            resource_name=f"{space.resource_name}/csv-uploads/{upload.key_id}",
            after={"file_name": upload.file_name, "size": upload.size, "columns": header},
        )
        transaction.on_commit(lambda: _enqueue(upload.pk))
    return upload


def _enqueue(upload_id: int) -> None:
    # Sent by name: services do not import tasks.
    from switchyard.celery import app

    try:
        app.send_task(task_names.PROCESS_CSV_UPLOAD, args=[upload_id], queue="default")
    except Exception:
        logger.exception("could not queue CSV upload %s", upload_id)
        CsvUpload.objects.filter(pk=upload_id).update(
            status=UploadStatus.FAILED,
            errors=[{"row": 0, "message": "The upload could not be queued; upload it again."}],
            finish_time=timezone.now(),
        )


def _row_errors(header: list[str], identifiers: set[str], content: str) -> tuple[int, int, list]:
    """(data rows, error count, the first MAX_ERRORS_KEPT errors) of the whole file."""
    kept: list[dict[str, Any]] = []
    count = 0
    rows = 0

    def error(row: int, message: str) -> None:
        nonlocal count
        count += 1
        if len(kept) < MAX_ERRORS_KEPT:
            kept.append({"row": row, "message": message})

    reader = _reader(content)
    next(reader)
    number = 1  # the header is row 1, as a spreadsheet numbers it
    try:
        for row in reader:
            number += 1
            if not row:
                continue  # a blank line
            rows += 1
            if rows > MAX_ROWS:
                error(number, f"Too many rows. You can upload up to {MAX_ROWS} rows.")
                break
            if len(row) != len(header):
                error(number, f"Row has {len(row)} values; the header has {len(header)} columns.")
                continue
            values = [v.strip() for k, v in zip(header, row, strict=True) if k in identifiers]
            if not any(values):
                error(number, "Row has no identifier value.")
            elif any(len(v) > IDENTIFIER_MAX for v in values):
                # Identity resolution ignores such values: the row would resolve to nothing.
                error(number, f"An identifier value is longer than {IDENTIFIER_MAX:,} characters.")
    except csv.Error as exc:
        error(number + 1, f"The row could not be parsed: {exc}.")
    return rows, count, kept


def identify_of(
    header: list[str], identifiers: set[str], row: list[str], *, message_id: str, now: str
) -> dict[str, Any]:
    """A row as the internal identify call Segment makes of it: userId/anonymousId,
    every identifier value in ``context.externalIds``, the other non-empty cells
    as traits (an email column also as the ``email`` trait)."""
    traits: dict[str, Any] = {}
    external: list[dict[str, str]] = []
    message: dict[str, Any] = {
        "type": "identify",
        "messageId": message_id,
        "timestamp": now,
        "receivedAt": now,
    }
    for column, raw in zip(header, row, strict=True):
        value = raw.strip()
        if not value:
            continue
        if column in identifiers:
            external.append(
                {"id": value, "type": column, "collection": "users", "encoding": "none"}
            )
            if column == "user_id":
                message["userId"] = value
            elif column == "anonymous_id":
                message["anonymousId"] = value
            elif column == "email":
                traits["email"] = value
        else:
            traits[column] = value
    message["traits"] = traits
    message["context"] = {"externalIds": external}
    return message


def process_upload(upload_id: int, *, budget: float = RUN_BUDGET) -> dict[str, Any]:
    """The worker's part: validate every row, then (only if none is bad) apply the
    rows through identity resolution, CHUNK rows per transaction. After ``budget``
    seconds it queues itself again to go on from the rows applied, so a large file
    never meets the task's time limit (a rerun after a dead worker resumes the same way)."""
    started = time.monotonic()
    upload = CsvUpload.objects.select_related("space").filter(pk=upload_id).first()
    if upload is None or upload.status not in (UploadStatus.VALIDATING, UploadStatus.PROCESSING):
        return {"skipped": True}
    space = upload.space
    header = list(upload.columns)
    identifiers = set(identifier_types(space)).intersection(header)
    if upload.status == UploadStatus.VALIDATING:
        rows, count, kept = _row_errors(header, identifiers, upload.content)
        if count:
            CsvUpload.objects.filter(pk=upload.pk).update(
                status=UploadStatus.INVALID,
                rows=rows,
                errors=kept,
                error_count=count,
                content="",
                finish_time=timezone.now(),
            )
            return {"invalid": count}
        CsvUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.PROCESSING, rows=rows)
    start = upload.processed
    now = timezone.now().isoformat().replace("+00:00", "Z")
    reader = _reader(upload.content)
    next(reader)
    batch: list[dict[str, Any]] = []
    index = 0
    for row in reader:
        if not row:
            continue
        index += 1
        if index <= start:
            continue
        batch.append(
            identify_of(header, identifiers, row, message_id=f"{upload.key_id}-{index}", now=now)
        )
        if len(batch) == CHUNK:
            _apply(upload, space, batch)
            batch = []
            if time.monotonic() - started >= budget:
                _enqueue(upload.pk)
                return {"continued": index}
    if batch:
        _apply(upload, space, batch)
    CsvUpload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.SUCCEEDED, content="", finish_time=timezone.now()
    )
    return {"applied": index}


def _apply(upload: CsvUpload, space: Space, batch: list[dict[str, Any]]) -> None:
    with transaction.atomic():
        resolution.resolve_events(space, batch)
        CsvUpload.objects.filter(pk=upload.pk).update(processed=F("processed") + len(batch))


def recent_uploads(space: Space, *, now: dt.datetime | None = None) -> list[CsvUpload]:
    """The Update History: the space's uploads of the last 30 days, newest first."""
    since = (now or timezone.now()) - HISTORY
    return list(
        CsvUpload.objects.filter(space=space, create_time__gte=since)
        .defer("content")
        .select_related("created_by")
        .order_by("-create_time", "-id")[:200]
    )
