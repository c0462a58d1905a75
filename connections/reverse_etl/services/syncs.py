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
     after ``load_after``), ``PAGE_SIZE`` at a time: each change the mapping's
     record selection sends becomes a message (``mappings.message_for``) that the
     mapping's field mappings map onto its action, delivered through
     ``connections.services.delivery.deliver_mapped`` (batched, retryable
     failures retried within the call). The consent settings are read once, when
     the load starts: a run uses them as they were then. Per page: one cancel
     check, the outcomes written at once (one ``INSERT ... unnest``), the counters
     and ``load_after`` updated once. A record whose outcome is recorded is not sent again by this
     run. Changes the mapping does not send are recorded skipped and committed.
     A failed record stays a change and is retried at the next syncs (re-read by
     their extract); ``RetlRecordRetry`` counts its failed syncs since its first
     failure, and after 5 syncs or 14 days it is given up: recorded failed with
     the reason and committed, so it is sent again only once it changes again.
  3. **commit**: ``commit_snapshot`` of the successful, skipped and given-up ids
     only, so failed records stay changes for the next run; then the run's
     extract is dropped from the warehouse (``discard_extract``).
- ``do_cancel``: an active run becomes CANCELING; the load stops at its next
  page, commits what it delivered (processed records are not resent) and
  ends CANCELED.
- ``do_reset_mapping``: forget the mapping's snapshot: everything is added next time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from connections.reverse_etl import task_names
from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlMapping, RetlRecordRetry, RetlSync, RetlSyncRecord
from connections.reverse_etl.services import alerts, consent
from connections.reverse_etl.services.mappings import Messages, sends
from connections.reverse_etl.services.sources import warehouse_of
from connections.reverse_etl.warehouses.base import Record, WarehouseError
from connections.rules import mapping as mapping_kit
from connections.services.delivery import deliver_mapped
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from workspace.services import audit

logger = logging.getLogger("switchyard.reverse_etl")

EXTRACT_TIMEOUT_S = 3600.0
PAGE_SIZE = 1000
PAGES_PER_READ = 5
COMMIT_CHUNK = 5000  # ids per commit_snapshot (each opens a warehouse connection)
REASON_MAX = 1000
# Automatic retry of records that failed to load (the docs): up to 5 syncs or 14 days.
RETRY_SYNCS = 5
RETRY_WINDOW = dt.timedelta(days=14)
Status = RetlSync.Status
FAILED = RetlSyncRecord.Outcome.FAILED
SUCCESSFUL = RetlSyncRecord.Outcome.SUCCESSFUL
SKIPPED = RetlSyncRecord.Outcome.SKIPPED


class SyncAlreadyRunning(AlreadyExists):
    default_message = "a sync of this mapping is already running"


def _audit(principal: Principal, action: AuditAction, sync: RetlSync, **after: Any) -> None:
    audit.record(
        principal,
        action,
        workspace=sync.mapping.workspace,
        resource_name=sync.resource_name,
        after={"status": sync.status, **after},
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


CANCEL_REASON_MAX = 500


def do_cancel(*, principal: Principal, sync: RetlSync, reason: object = "") -> RetlSync:
    """Cancel a run, with the user's optional reason (kept on the run and audited)."""
    if not isinstance(reason, str):
        raise InvalidArgument("the reason must be text", field="reason")
    reason = reason.strip()
    if len(reason) > CANCEL_REASON_MAX:
        raise InvalidArgument(
            f"the reason is at most {CANCEL_REASON_MAX} characters", field="reason"
        )
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", sync, write=True, related=("mapping__workspace",)
        )
        if locked.status not in RetlSync.ACTIVE:
            raise FailedPrecondition(f"the sync is {locked.status}: only a running sync cancels")
        changed = ["update_time"]
        if locked.status == Status.QUEUED:  # nothing done yet: canceled at once
            locked.status = Status.CANCELED
            locked.finish_time = timezone.now()
            changed += ["status", "finish_time"]
        elif locked.status != Status.CANCELING:
            locked.status = Status.CANCELING
            changed.append("status")
        if reason and reason != locked.cancel_reason:
            locked.cancel_reason = reason
            changed.append("cancel_reason")
        if len(changed) > 1:
            locked.save(update_fields=changed)
        why = {"reason": locked.cancel_reason} if locked.cancel_reason else {}
        _audit(principal, AuditAction.RETL_SYNC_CANCELED, locked, **why)
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
        _discard_extract(sync)
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


def _discard_extract(sync: RetlSync) -> None:
    """The run is committed: nothing reads its extract again (failed records are
    found anew by the next diff), so its rows leave the warehouse now. Best effort:
    the next extract replaces it anyway."""
    mapping = sync.mapping
    try:
        warehouse_of(mapping.model.source).discard_extract(mapping.key_id, sync.extract_id)
    except WarehouseError:
        logger.warning("reverse etl sync %s: its extract was not dropped", sync.key_id)


def _finish(sync: RetlSync, status: str, *, error: str = "") -> None:
    _set(sync, status=status, error=error[:REASON_MAX], finish_time=timezone.now())
    alerts.sync_finished(sync)  # alerts on failed / partially successful runs


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


def _load(sync: RetlSync) -> None:
    """Page by page: one cancel check, one delivery call (batched, retried within
    it), the outcomes written at once with the counters, the retry rows and the
    keyset position in one transaction. Records whose outcome this run recorded
    (a resumed run) are not sent again."""
    mapping = sync.mapping
    warehouse = warehouse_of(mapping.model.source)
    loader = _Loader(sync)
    after = sync.load_after or None
    # A page's outcomes and the keyset position are written together, so only a
    # resumed run can meet recorded records; a fresh one skips the look-up.
    resumed = RetlSyncRecord.objects.filter(sync=sync).exists()
    while True:
        # Read several pages at once (each read is a warehouse connection), then
        # load them one page at a time.
        read = warehouse.changes(
            mapping.key_id, sync.extract_id, after=after, limit=PAGE_SIZE * PAGES_PER_READ
        )
        if not read:
            break
        for start in range(0, len(read), PAGE_SIZE):
            if _canceling(sync):  # the commit step commits what was delivered
                _set(sync, load_done=True)
                return
            page = read[start : start + PAGE_SIZE]
            done: set[str] = set()
            if resumed:
                done = set(
                    RetlSyncRecord.objects.filter(
                        sync=sync, record_id__in=[r.id for r in page]
                    ).values_list("record_id", flat=True)
                )
            after = page[-1].id
            loader.load_page([r for r in page if r.id not in done], after)
        if len(read) < PAGE_SIZE * PAGES_PER_READ:
            break
    # Retry rows of records that are no longer changes (deleted before they
    # loaded, or changed back) have nothing left to retry.
    RetlRecordRetry.objects.filter(mapping=mapping).exclude(
        record_id__in=RetlSyncRecord.objects.filter(sync=sync).values("record_id")
    ).delete()
    _set(sync, load_done=True)
    _advance(sync, Status.COMMITTING)


class _Loader:
    """The load of one run: the mapping compiled once, the consent settings read
    once, the model's columns read once (only when a deletion is sent).

    A run uses the consent settings (the model's consent columns, the destination's
    categories) as they were when its load started: an edit made during the load
    applies from the next run (a run resumed after its worker died reads them again
    for the records it has left)."""

    def __init__(self, sync: RetlSync) -> None:
        self.sync = sync
        self.mapping = sync.mapping
        self._columns: tuple[str, ...] | None = None
        self.messages = Messages(self.mapping, sync.key_id)
        self.resolve: Callable[[Any], Any] | None = None
        self.problem = ""
        # Records of the mapping being retried (failed at earlier syncs): when there
        # are none, no page looks them up.
        self.retrying = RetlRecordRetry.objects.filter(mapping=self.mapping).exists()
        self.consent = consent.for_mapping(self.mapping.model, self.mapping.destination)
        try:
            self.resolve = mapping_kit.compile(self.mapping.field_mappings)
        except mapping_kit.InvalidMapping as exc:  # saved valid; the kit changed since
            self.problem = f"the field mappings cannot run: {exc}"

    def columns(self) -> tuple[str, ...]:
        if self._columns is None:
            model = self.mapping.model
            self._columns = warehouse_of(model.source).columns(
                model.query, timeout_s=EXTRACT_TIMEOUT_S
            )
        return self._columns

    def load_page(self, records: list[Record], after: str) -> None:
        mapping = self.mapping
        now = timezone.now()
        retries: dict[str, RetlRecordRetry] = {}
        if self.retrying:
            retries = {
                r.record_id: r
                for r in RetlRecordRetry.objects.filter(
                    mapping=mapping, record_id__in=[r.id for r in records]
                )
            }
        stored = set(retries)
        outcomes: list[_Outcome] = []
        to_send: list[tuple[Record, dict[str, Any]]] = []
        check = self.consent
        for record in records:
            retry = retries.get(record.id)
            if not sends(mapping, record.change):
                outcomes.append(_Outcome(record, SKIPPED))
            elif record.row is not None and not check.allows(record.row):
                outcomes.append(_Outcome(record, SKIPPED, consent.FILTERED))
            elif retry is not None and now - retry.first_failure_time >= RETRY_WINDOW:
                # Retried for 14 days already: given up without sending again.
                reason = f"gave up after {RETRY_WINDOW.days} days: {retry.last_reason}"
                outcomes.append(_Outcome(record, FAILED, reason, given_up=True))
            else:
                columns = self.columns() if record.row is None else ()
                message = self.messages.make(record.id, record.change, record.row, columns)
                consent.add_context(message, check, record.row)
                to_send.append((record, message))
        for (record, message), (delivered, reason) in zip(
            to_send, self._deliver(to_send), strict=True
        ):
            if delivered:
                outcomes.append(_Outcome(record, SUCCESSFUL))
                continue
            retry = retries.get(record.id)
            attempts = (retry.attempts if retry is not None else 0) + 1
            first = retry.first_failure_time if retry is not None else now
            if attempts >= RETRY_SYNCS:
                reason = f"gave up after {RETRY_SYNCS} syncs: {reason}"
                outcomes.append(_Outcome(record, FAILED, reason, message, given_up=True))
            else:
                outcomes.append(_Outcome(record, FAILED, reason, message))
                retries[record.id] = RetlRecordRetry(
                    mapping=mapping,
                    record_id=record.id,
                    first_failure_time=first,
                    attempts=attempts,
                    last_reason=reason[:REASON_MAX],
                )
        self._record(outcomes, retries, stored, after)

    def _deliver(self, to_send: list[tuple[Record, dict[str, Any]]]) -> list[tuple[bool, str]]:
        if not to_send:
            return []
        if self.resolve is None:
            return [(False, self.problem)] * len(to_send)
        messages = [(str(m["messageId"]), m) for _, m in to_send]
        try:
            answers = deliver_mapped(
                self.mapping.destination, self.mapping.action, self.resolve, messages
            )
        except Exception as exc:  # the page's problem, never the run's end
            logger.exception("reverse etl delivery for sync %s failed", self.sync.key_id)
            return [(False, f"delivery failed: {exc}")] * len(to_send)
        return [(a.delivered, a.reason) for a in answers]

    def _record(
        self,
        outcomes: list[_Outcome],
        retries: dict[str, RetlRecordRetry],
        stored: set[str],
        after: str,
    ) -> None:
        """The page's outcomes (one statement), counters, retry rows and position,
        in one transaction."""
        sync = self.sync
        counts: dict[str, int] = {SUCCESSFUL: 0, FAILED: 0, SKIPPED: 0}
        for outcome in outcomes:
            counts[outcome.outcome] += 1
        still_failing = {o.record.id for o in outcomes if o.outcome == FAILED and not o.given_up}
        # Retry rows of records that loaded, or were skipped or given up, go.
        handled = [i for i in stored if i not in still_failing]
        pending = [retries[i] for i in still_failing]
        with transaction.atomic():
            _insert_outcomes(sync, outcomes)
            if handled:
                RetlRecordRetry.objects.filter(mapping=self.mapping, record_id__in=handled).delete()
            if pending:
                RetlRecordRetry.objects.bulk_create(
                    pending,
                    update_conflicts=True,
                    unique_fields=["mapping", "record_id"],
                    update_fields=["attempts", "last_reason", "update_time"],
                )
            RetlSync.objects.filter(pk=sync.pk).update(
                successful=F("successful") + counts[SUCCESSFUL],
                failed=F("failed") + counts[FAILED],
                skipped=F("skipped") + counts[SKIPPED],
                load_after=after,
                update_time=timezone.now(),
            )
        sync.successful += counts[SUCCESSFUL]
        sync.failed += counts[FAILED]
        sync.skipped += counts[SKIPPED]
        sync.load_after = after


@dataclass(frozen=True)
class _Outcome:
    record: Record
    outcome: str
    reason: str = ""
    sample: dict[str, Any] | None = None  # the message of a failed record
    given_up: bool = False


_INSERT_OUTCOMES = """
INSERT INTO {table} (sync_id, record_id, change, outcome, reason, payload, committed, given_up)
SELECT %s, r, c, o, why, p::jsonb, false, g
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::boolean[])
    AS t(r, c, o, why, p, g)
"""


def _insert_outcomes(sync: RetlSync, outcomes: list[_Outcome]) -> None:
    """A page's outcomes in one statement (arrays unnested: building a thousand
    model instances and a thousand-row VALUES list cost more than the delivery)."""
    if not outcomes:
        return
    samples: list[str | None] = []
    for o in outcomes:
        try:
            samples.append(None if o.sample is None else orjson.dumps(o.sample).decode())
        except Exception:  # shown only: what cannot be encoded is kept as text
            samples.append(orjson.dumps(repr(o.sample)[:REASON_MAX]).decode())
    table = connection.ops.quote_name(RetlSyncRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_OUTCOMES.format(table=table),
            [
                sync.pk,
                [o.record.id for o in outcomes],
                [o.record.change for o in outcomes],
                [o.outcome for o in outcomes],
                [o.reason[:REASON_MAX] for o in outcomes],
                samples,
                [o.given_up for o in outcomes],
            ],
        )


def _commit(sync: RetlSync) -> None:
    """Advance the snapshot for handled records (successful or skipped) not yet
    committed; committing again after a crash is harmless (an upsert)."""
    mapping = sync.mapping
    warehouse = warehouse_of(mapping.model.source)
    pending = RetlSyncRecord.objects.filter(sync=sync, committed=False).exclude(
        outcome=RetlSyncRecord.Outcome.FAILED, given_up=False
    )
    last = 0
    while True:  # keyset on the primary key: a run's records are contiguous in it
        chunk = list(
            pending.filter(pk__gt=last).order_by("pk").values_list("pk", "record_id")[:COMMIT_CHUNK]
        )
        if not chunk:
            break
        warehouse.commit_snapshot(mapping.key_id, sync.extract_id, [r for _, r in chunk])
        last = chunk[-1][0]
        pending.filter(pk__gte=chunk[0][0], pk__lte=last).update(committed=True)
    _set(sync, commit_done=True)
