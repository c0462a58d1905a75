"""Profiles CSV upload (Unify > Profile explorer > Add Profiles): each row becomes an
internal identify call (its identifier columns as identifiers, the other columns as
custom traits) applied through identity resolution.

The file is checked at upload (file-level rules: type, size, header) and then, in
the worker, row by row; a file with any bad row applies nothing (its errors are
listed), a good one is applied in chunks whose progress the page polls.

A run that fails on something other than a deadlock or a lost connection marks
the upload FAILED with the reason: the chunk it was applying rolled back, the
chunks before it stay applied (``processed``). A run that vanished (a lost task
message, a dead worker) is queued again by beat's ``engage.sweep_feed`` once the
upload made no progress for ``STALLED_AFTER``, ``MAX_RESTARTS`` times in a row at
most before it is marked FAILED.
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

from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from engage import task_names
from engage.choices import AuditAction
from engage.models import CsvUpload, IdentifierSetting, Space, UploadStatus
from engage.services import computation_runs, resolution
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
# A chunk commits in seconds and checking a whole file takes well under a minute:
# an upload without progress for this long lost its task message or its worker.
STALLED_AFTER = dt.timedelta(minutes=15)
MAX_RESTARTS = 3  # in a row without progress, then FAILED
RUNNING = (UploadStatus.VALIDATING, UploadStatus.PROCESSING)
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
    if "\x00" in content:  # PostgreSQL's text cannot hold it: storing the file would fail
        raise InvalidArgument("The file has NUL characters: it is not CSV text.", field="file")
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
        _fail(upload_id, "The upload could not be queued; nothing was applied. Upload it again.")


def _fail(upload_id: int, reason: str) -> None:
    """FAILED with ``reason``, unless the upload already ended; the file is dropped."""
    CsvUpload.objects.filter(pk=upload_id, status__in=RUNNING).update(
        status=UploadStatus.FAILED, failure=reason[:500], content="", finish_time=timezone.now()
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


class _Superseded(Exception):
    """Another run of the upload applied the chunk first (a restart beside a run
    that was only slow): this run stops."""


def process_upload(upload_id: int, *, budget: float = RUN_BUDGET) -> dict[str, Any]:
    """The worker's part: validate every row, then (only if none is bad) apply the
    rows through identity resolution, CHUNK rows per transaction. After ``budget``
    seconds it queues itself again to go on from the rows applied, so a large file
    never meets the task's time limit (a rerun after a dead worker resumes the same way).
    An error other than a deadlock or a lost connection marks it FAILED with the reason."""
    started = time.monotonic()
    upload = CsvUpload.objects.select_related("space").filter(pk=upload_id).first()
    if upload is None or upload.status not in RUNNING:
        return {"skipped": True}
    CsvUpload.objects.filter(pk=upload.pk).update(progress_time=timezone.now())
    try:
        return _process(upload, started=started, budget=budget)
    except _Superseded:
        return {"superseded": True}
    except OperationalError:
        # A deadlock or a lost connection: the chunk rolled back; the sweep queues
        # the upload again to go on from the rows applied.
        raise
    except Exception as exc:
        logger.exception("CSV upload %s failed", upload.key_id)
        reason = _failure_reason(upload.pk, exc)
        _fail(upload.pk, reason)
        return {"failed": reason}


def _failure_reason(upload_id: int, exc: Exception) -> str:
    # The exception's class only: its text can quote a row's values.
    what = type(exc).__name__
    row = CsvUpload.objects.filter(pk=upload_id).values("status", "rows", "processed").first()
    if row is None or row["status"] == UploadStatus.VALIDATING:
        return f"Checking the file's rows failed ({what}); nothing was applied."
    done = row["processed"]
    last = min(done + CHUNK, row["rows"])
    before = f"rows 1 to {done:,} were applied" if done else "no row was applied"
    return (
        f"Applying rows {done + 1:,} to {last:,} failed ({what}): {before}; "
        f"those rows and the rest of the file were not."
    )


def _process(upload: CsvUpload, *, started: float, budget: float) -> dict[str, Any]:
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
        CsvUpload.objects.filter(pk=upload.pk, status=UploadStatus.VALIDATING).update(
            status=UploadStatus.PROCESSING, rows=rows, progress_time=timezone.now(), restarts=0
        )
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
            _apply(upload, space, batch, after=index - len(batch))
            batch = []
            if time.monotonic() - started >= budget:
                _enqueue(upload.pk)
                return {"continued": index}
    if batch:
        _apply(upload, space, batch, after=index - len(batch))
    CsvUpload.objects.filter(pk=upload.pk, status=UploadStatus.PROCESSING).update(
        status=UploadStatus.SUCCEEDED, content="", finish_time=timezone.now()
    )
    return {"applied": index}


def _apply(upload: CsvUpload, space: Space, batch: list[dict[str, Any]], *, after: int) -> None:
    """Rows ``after`` + 1 ... and the progress that says so, in one transaction."""
    with transaction.atomic():
        # The row lock makes two runs of one upload (a restart beside a slow run)
        # take turns; the one that finds the rows already applied stops.
        locked = CsvUpload.objects.select_for_update().filter(pk=upload.pk).first()
        if locked is None or locked.status != UploadStatus.PROCESSING or locked.processed != after:
            raise _Superseded
        resolution.resolve_events(space, batch)
        CsvUpload.objects.filter(pk=upload.pk).update(
            processed=F("processed") + len(batch), progress_time=timezone.now(), restarts=0
        )
    # Committed: the space's real-time audiences and traits, for the profiles
    # holding the rows' identifiers (the feed's re-evaluation; never raises).
    computation_runs.reevaluate_identifiers(
        space.pk,
        (
            (str(i["type"]), str(i["id"]))
            for message in batch
            for i in message["context"]["externalIds"]
        ),
    )


def requeue_stalled(
    *, now: dt.datetime | None = None, older_than: dt.timedelta = STALLED_AFTER
) -> int:
    """Queue again every upload still VALIDATING or PROCESSING that made no progress
    for ``older_than`` (its task message was lost or its worker died): it goes on
    from the rows applied. One restarted ``MAX_RESTARTS`` times in a row without
    progress is marked FAILED instead. Returns how many were queued."""
    now = now or timezone.now()
    cutoff = now - older_than
    stalled = Q(status__in=RUNNING) & (
        Q(progress_time__lt=cutoff) | Q(progress_time__isnull=True, create_time__lt=cutoff)
    )
    queued = 0
    for upload_id in CsvUpload.objects.filter(stalled).values_list("pk", flat=True):
        with transaction.atomic():
            # Skip one whose chunk is being applied right now.
            row = (
                CsvUpload.objects.select_for_update(skip_locked=True)
                .filter(stalled, pk=upload_id)
                .only("pk", "status", "rows", "processed", "restarts")
                .first()
            )
            if row is None:
                continue
            if row.restarts >= MAX_RESTARTS:
                applied = (
                    "nothing was applied"
                    if row.status == UploadStatus.VALIDATING
                    else f"{row.processed:,} of {row.rows:,} rows were applied, the rest were not"
                )
                _fail(
                    row.pk,
                    f"Processing stopped making progress (its task was lost or its worker "
                    f"stopped) and was restarted {MAX_RESTARTS} times without progress; gave "
                    f"up: {applied}.",
                )
                continue
            CsvUpload.objects.filter(pk=row.pk).update(
                restarts=F("restarts") + 1, progress_time=now
            )
        logger.warning("CSV upload %s stalled: queued again", upload_id)
        _enqueue(upload_id)
        queued += 1
    return queued


def recent_uploads(space: Space, *, now: dt.datetime | None = None) -> list[CsvUpload]:
    """The Update History: the space's uploads of the last 30 days, newest first."""
    since = (now or timezone.now()) - HISTORY
    return list(
        CsvUpload.objects.filter(space=space, create_time__gte=since)
        .defer("content")
        .select_related("created_by")
        .order_by("-create_time", "-id")[:200]
    )
