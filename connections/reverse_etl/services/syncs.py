"""Reverse ETL sync runs: extract -> load -> commit, per mapping.

- ``do_run_now`` starts a run (QUEUED) and enqueues the task; a second run of a
  mapping while one is active is refused (``SyncAlreadyRunning``, 409), held by the
  database (a partial unique index on active runs).
- ``run_sync`` (the task's body) does the steps not yet done, each recorded done
  so a run resumed after a worker died does not redo it:
  1. **extract**: the engine's extract of the model, keyed by the *mapping*
     (each mapping has its own snapshot: two mappings of one model deliver to
     different places); the extraction results are stored on the run.
  2. **load**: pages through the changes (keyset on the identifier, resumed
     after ``load_after``); each change the mapping sends becomes a message
     (``mappings.message_for``) delivered now through the destination's enabled
     mappings (``connections.services.delivery.send_now``), its outcome recorded
     per record (successful, or failed with the reason and the message as a
     sample). A record whose outcome is recorded is not sent again by this run.
     Changes the mapping does not send (say, deletions) are recorded skipped and
     still committed: they were handled.
  3. **commit**: ``commit_snapshot`` of the successful and skipped ids only, so
     failed records stay changes and are sent again at the next run.
- ``do_cancel``: an active run becomes CANCELING; the load stops at its next
  record, commits what it delivered (processed records are not resent) and
  ends CANCELED.
- ``do_reset_mapping``: forget the mapping's snapshot: everything is added next time.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from connections.reverse_etl import task_names
from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlMapping, RetlSync, RetlSyncRecord
from connections.reverse_etl.services.mappings import message_for
from connections.reverse_etl.services.sources import warehouse_of
from connections.reverse_etl.warehouses.base import Record, WarehouseError
from connections.services.delivery import send_now
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition
from workspace.services import audit

logger = logging.getLogger("switchyard.reverse_etl")

EXTRACT_TIMEOUT_S = 3600.0
PAGE_SIZE = 500
COMMIT_CHUNK = 1000
REASON_MAX = 1000
Status = RetlSync.Status


class SyncAlreadyRunning(AlreadyExists):
    default_message = "a sync of this mapping is already running"


def _audit(principal: Principal, action: AuditAction, sync: RetlSync) -> None:
    audit.record(
        principal,
        action,
        workspace=sync.mapping.workspace,
        resource_name=sync.resource_name,
        after={"status": sync.status},
    )


# --- starting, canceling, resetting -------------------------------------------------------


def start_sync(mapping: RetlMapping) -> RetlSync:
    """A QUEUED run of ``mapping``, or ``SyncAlreadyRunning``. The caller enqueues it."""
    if not mapping.enabled:
        raise FailedPrecondition("the mapping is disabled: enable it to run it")
    if not mapping.model.enabled:
        raise FailedPrecondition("the model is disabled: enable it to run its mappings")
    try:
        with transaction.atomic():
            return RetlSync.objects.create(key_id=names.generate_id("rsyn"), mapping=mapping)
    except IntegrityError as exc:
        raise SyncAlreadyRunning(
            f"a sync of mapping {mapping.key_id} is already running: wait for it or cancel it"
        ) from exc


def do_run_now(*, principal: Principal, mapping: RetlMapping) -> RetlSync:
    access.require(principal, "change", mapping, write=True)
    sync = start_sync(mapping)
    _audit(principal, AuditAction.RETL_SYNC_STARTED, sync)
    transaction.on_commit(lambda: enqueue(sync.pk))
    return sync


def enqueue(sync_id: int) -> None:
    from switchyard.celery import app

    app.send_task(task_names.RUN_SYNC, args=[sync_id], queue="default")


def do_cancel(*, principal: Principal, sync: RetlSync) -> RetlSync:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", sync, write=True, related=("mapping__workspace",)
        )
        if locked.status not in RetlSync.ACTIVE:
            raise FailedPrecondition(f"the sync is {locked.status}: only a running sync cancels")
        if locked.status == Status.QUEUED:  # nothing done yet: canceled at once
            locked.status = Status.CANCELED
            locked.finish_time = timezone.now()
            locked.save(update_fields=["status", "finish_time", "update_time"])
        elif locked.status != Status.CANCELING:
            locked.status = Status.CANCELING
            locked.save(update_fields=["status", "update_time"])
        _audit(principal, AuditAction.RETL_SYNC_CANCELED, locked)
    return locked


def do_reset_mapping(*, principal: Principal, mapping: RetlMapping) -> None:
    """Forget what the mapping delivered: every row is added at its next run.
    Refused while a run is active (it would commit into the forgotten snapshot)."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", mapping, write=True, related=("workspace", "model__source")
        )
        if RetlSync.objects.filter(mapping=locked, status__in=RetlSync.ACTIVE).exists():
            raise SyncAlreadyRunning("cannot reset while a sync of this mapping is running")
        warehouse_of(locked.model.source).reset(locked.key_id)
        audit.record(
            principal,
            AuditAction.RETL_MAPPING_RESET,
            workspace=locked.workspace,
            resource_name=locked.resource_name,
            after={"reset": True},
        )


# --- the run ------------------------------------------------------------------------------


def _set(sync: RetlSync, **values: Any) -> None:
    for key, value in values.items():
        setattr(sync, key, value)
    RetlSync.objects.filter(pk=sync.pk).update(**values, update_time=timezone.now())


def _advance(sync: RetlSync, status: str) -> None:
    """The next step's status, unless a cancel asked meanwhile (CANCELING stays)."""
    moved = RetlSync.objects.filter(pk=sync.pk).exclude(status=Status.CANCELING)
    if moved.update(status=status, update_time=timezone.now()):
        sync.status = status


def _canceling(sync: RetlSync) -> bool:
    return RetlSync.objects.filter(pk=sync.pk, status=Status.CANCELING).exists()


def run_sync(sync_id: int) -> dict[str, Any]:
    """Do the run's steps that are not done yet (a redelivered task resumes). A
    session advisory lock per run keeps a redelivered message from running it twice
    at once: the second worker finds it taken and leaves the run to the first."""
    sync = RetlSync.objects.select_related("mapping__model__source", "mapping__destination").get(
        pk=sync_id
    )
    if sync.status not in RetlSync.ACTIVE:
        return {"sync": sync.key_id, "status": sync.status}
    lock = f"retl-sync:{sync.key_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [lock])
        (taken,) = cursor.fetchone() or (False,)
    if not taken:
        return {"sync": sync.key_id, "status": sync.status, "running_elsewhere": True}
    try:
        return _run_steps(sync)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [lock])


def _run_steps(sync: RetlSync) -> dict[str, Any]:
    try:
        if not sync.extract_done:
            if _canceling(sync):  # canceled before anything was extracted
                _finish(sync, Status.CANCELED)
                return {"sync": sync.key_id, "status": sync.status}
            _advance(sync, Status.EXTRACTING)
            _extract(sync)
        if not sync.load_done:
            _advance(sync, Status.LOADING)
            _load(sync)
        if not sync.commit_done:
            _commit(sync)
    except WarehouseError as exc:
        _finish(sync, Status.FAILED, error=exc.message)
        return {"sync": sync.key_id, "status": sync.status, "error": exc.message}
    except Exception:  # a bug of ours: the run ends FAILED rather than holding the mapping
        logger.exception("reverse etl sync %s failed", sync.key_id)
        _finish(sync, Status.FAILED, error="internal error: see the worker's log")
        return {"sync": sync.key_id, "status": sync.status, "error": "internal"}
    if _canceling(sync):
        _finish(sync, Status.CANCELED)
    else:
        _finish(sync, Status.PARTIALLY_SUCCEEDED if sync.failed else Status.SUCCEEDED)
    return {"sync": sync.key_id, "status": sync.status, "successful": sync.successful}


def _finish(sync: RetlSync, status: str, *, error: str = "") -> None:
    _set(sync, status=status, error=error[:REASON_MAX], finish_time=timezone.now())


def _extract(sync: RetlSync) -> None:
    model = sync.mapping.model
    result = warehouse_of(model.source).extract(
        sync.mapping.key_id, model.query, model.identifier_column, timeout_s=EXTRACT_TIMEOUT_S
    )
    _set(
        sync,
        extract_id=result.extract_id,
        extracted=result.extracted,
        added=result.added,
        updated=result.updated,
        deleted=result.deleted,
        duplicates=result.duplicates,
        null_ids=result.null_ids,
        extract_done=True,
    )


def _sends(mapping: RetlMapping, change: str) -> bool:
    return bool(getattr(mapping, f"send_{change}"))


def _load(sync: RetlSync) -> None:
    mapping = sync.mapping
    warehouse = warehouse_of(mapping.model.source)
    after = sync.load_after or None
    while True:
        page = warehouse.changes(mapping.key_id, sync.extract_id, after=after, limit=PAGE_SIZE)
        if not page:
            break
        done = set(
            RetlSyncRecord.objects.filter(
                sync=sync, record_id__in=[r.id for r in page]
            ).values_list("record_id", flat=True)
        )
        for record in page:
            if _canceling(sync):
                return _stop_loading(sync)
            if record.id not in done:
                _load_one(sync, record)
            after = record.id
            _set(sync, load_after=after)
    _set(sync, load_done=True)
    _advance(sync, Status.COMMITTING)


def _stop_loading(sync: RetlSync) -> None:
    _set(sync, load_done=True)


def _load_one(sync: RetlSync, record: Record) -> None:
    mapping = sync.mapping
    outcome: str
    sample: dict[str, Any] | None
    if not _sends(mapping, record.change):
        outcome, reason, sample = RetlSyncRecord.Outcome.SKIPPED, "", None
    else:
        message = message_for(mapping, record.id, record.change, record.row, sync.key_id)
        outcome, reason = _deliver(mapping, message)
        sample = message
    RetlSyncRecord.objects.create(
        sync=sync,
        record_id=record.id,
        change=record.change,
        outcome=outcome,
        reason=reason[:REASON_MAX],
        payload=sample,
    )
    counter = {"successful": "successful", "failed": "failed", "skipped": "skipped"}[outcome]
    RetlSync.objects.filter(pk=sync.pk).update(**{counter: F(counter) + 1})
    setattr(sync, counter, getattr(sync, counter) + 1)


def _deliver(mapping: RetlMapping, message: dict[str, Any]) -> tuple[str, str]:
    """Successful when at least one of the destination's mappings sent it and every
    one that sent it succeeded; otherwise failed with the first reason."""
    try:
        report = send_now(mapping.destination, message)
    except Exception as exc:  # one record's problem, never the run's end
        logger.exception("reverse etl delivery of %s failed", message.get("messageId"))
        return RetlSyncRecord.Outcome.FAILED, f"delivery failed: {exc}"
    sent = [m for m in report["mappings"] if m.get("sent")]
    problems = [
        m for m in report["mappings"] if "result" in m and m["result"]["status"] != "delivered"
    ]
    if problems:
        result = problems[0]["result"]
        return RetlSyncRecord.Outcome.FAILED, f"{result['code']}: {result['message']}"
    if not sent:
        return RetlSyncRecord.Outcome.FAILED, "no enabled mapping of the destination matches"
    return RetlSyncRecord.Outcome.SUCCESSFUL, ""


def _commit(sync: RetlSync) -> None:
    """Advance the snapshot for handled records (successful or skipped) not yet
    committed; committing again after a crash is harmless (an upsert)."""
    mapping = sync.mapping
    warehouse = warehouse_of(mapping.model.source)
    pending = RetlSyncRecord.objects.filter(sync=sync, committed=False).exclude(
        outcome=RetlSyncRecord.Outcome.FAILED
    )
    while True:
        chunk = list(pending.order_by("pk").values_list("pk", "record_id")[:COMMIT_CHUNK])
        if not chunk:
            break
        warehouse.commit_snapshot(mapping.key_id, sync.extract_id, [r for _, r in chunk])
        RetlSyncRecord.objects.filter(pk__in=[pk for pk, _ in chunk]).update(committed=True)
    _set(sync, commit_done=True)
