"""End users' deletion and suppression requests (Segment's Regulations).

Creating one (Workspace Owners; audited ``regulation.created``) is one
transaction that also does what must hold from the next request on:

- suppression types (SUPPRESS_ONLY, SUPPRESS_WITH_DELETE[_INTERNAL]) upsert the
  users into ``SuppressedUser``, which the Tracking API's gate reads, so the next
  event of a suppressed userId is dropped at ingest;
- UNSUPPRESS deletes them from it.

Types that delete are then processed asynchronously (``process_regulation``, a
task queued after the commit; a sweep queues again what a lost message left
INITIALIZED, and what a dead worker left RUNNING): RUNNING, the users' stored
events and delivery records erased (``connections.dataplane.erasure``), FINISHED
with counts per store, or FAILED with the error. SUPPRESS_ONLY and UNSUPPRESS
have nothing left to process and are FINISHED when created.

What Switchyard does not do: forward deletions to destinations (no destination
here supports it, so SUPPRESS_WITH_DELETE and DELETE_ONLY erase what the
internal variants erase; owners ask destinations themselves), and OBJECT_ID
subjects: they name objects of object-cloud sources (Salesforce and the like),
which Switchyard has none of. An OBJECT_ID deletion is accepted, as Segment's
API accepts it, and recorded NOT_SUPPORTED; suppressing an object is refused.

Limits (the docs): at most 5,000 subject ids per request, and 110,000 users per
workspace per 30 days across all types (the request that would pass it is
refused whole; NOT_SUPPORTED requests touch no user and do not count).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.dataplane import erasure
from privacy import task_names
from privacy.choices import AuditAction
from privacy.models import (
    Regulation,
    RegulationStatus,
    RegulationType,
    SubjectType,
    SuppressedUser,
)
from privacy.services import detection
from switchyard import access, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, ResourceExhausted
from workspace.models import Workspace
from workspace.services import audit

logger = logging.getLogger("switchyard.privacy")

SUBJECT_IDS_MAX = 5000  # "Up to 5000 userIds per call"
SUBJECT_ID_MAX = 256
QUOTA_USERS = 110_000  # "rate limited to 110,000 users within a 30-day period"
QUOTA_WINDOW = dt.timedelta(days=30)
# A regulation still INITIALIZED this long after its commit lost its message.
STALLED_AFTER = dt.timedelta(minutes=2)
# The task's soft time limit: a live run ends by then (FAILED with the timeout).
RUN_TIME_LIMIT = dt.timedelta(hours=1)
# A RUNNING regulation started this long ago has no live worker: past the soft
# limit a live run has ended, and past the hard limit (30 s later) its process was
# killed. A shorter bound would start a second run beside a slow live one. Waiting
# is cheap next to the 30 days the law allows, and a run resumes where the dead
# one stopped (each erased batch is committed with everything pointing at it).
RUNNING_STALE_AFTER = RUN_TIME_LIMIT + dt.timedelta(minutes=5)
# Runs started again after a dead one, before giving up: a regulation that kills
# its worker every time (out of memory, say) must not take one down every hour.
MAX_RESTARTS = 2
GAVE_UP = (
    "processing stopped without finishing {runs} times (the worker died or was "
    "stopped each time); what those runs erased stays erased; request the deletion "
    "again to erase the rest"
)
SWEEP_LIMIT = 100
ERROR_MAX = 1000

T = RegulationType
SUPPRESSING = frozenset({T.SUPPRESS_ONLY, T.SUPPRESS_WITH_DELETE, T.SUPPRESS_WITH_DELETE_INTERNAL})
DELETING = frozenset(
    {T.DELETE_ONLY, T.DELETE_INTERNAL, T.SUPPRESS_WITH_DELETE, T.SUPPRESS_WITH_DELETE_INTERNAL}
)
# Only deletion makes sense for an object; the object itself is what is not supported.
OBJECT_TYPES = frozenset({T.DELETE_ONLY, T.DELETE_INTERNAL})
OBJECT_ID_NOTE = (
    "OBJECT_ID subjects are objects of object-cloud sources (such as Salesforce); "
    "Switchyard has no such sources, so there is nothing to delete"
)


def snapshot(regulation: Regulation) -> dict[str, Any]:
    return {
        "regulation_type": regulation.regulation_type,
        "subject_type": regulation.subject_type,
        "subject_ids": list(regulation.subject_ids),
        "status": regulation.status,
    }


def _choice(value: object, choices: type[models.TextChoices], field: str) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise InvalidArgument(f"{field} must be one of {', '.join(allowed)}", field=field)
    return str(value)


def clean_subject_ids(value: object) -> list[str]:
    """1 to 5,000 distinct ids, each 1-256 characters, in the order given."""
    field = "subject_ids"
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise InvalidArgument("subject_ids must be a list of strings", field=field)
    for subject in value:
        if not subject.strip() or len(subject) > SUBJECT_ID_MAX or "\x00" in subject:
            raise InvalidArgument(
                f"each subject id must be 1 to {SUBJECT_ID_MAX} characters, not blank",
                field=field,
            )
    ids = list(dict.fromkeys(value))
    if not ids:
        raise InvalidArgument("subject_ids must name at least one id", field=field)
    if len(ids) > SUBJECT_IDS_MAX:
        raise InvalidArgument(
            f"at most {SUBJECT_IDS_MAX} subject ids per request (got {len(ids)}); "
            "send the rest in further requests",
            field=field,
        )
    return ids


def users_in_window(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Users named by the workspace's regulations of the last 30 days (the quota)."""
    since = (now or timezone.now()) - QUOTA_WINDOW
    rows = Regulation.objects.filter(workspace=workspace, create_time__gte=since).exclude(
        status=RegulationStatus.NOT_SUPPORTED
    )
    cardinality = models.Func(
        models.F("subject_ids"), function="cardinality", output_field=models.IntegerField()
    )
    total = rows.aggregate(n=Coalesce(models.Sum(cardinality), 0))["n"]
    return int(total)


def _enqueue(regulation_id: int) -> None:
    # Sent by name: services do not import tasks. A lost message leaves the
    # regulation INITIALIZED, which the sweep queues again.
    from switchyard.celery import app

    try:
        app.send_task(task_names.PROCESS_REGULATION, args=[regulation_id], queue="default")
    except Exception:
        logger.exception("could not queue regulation %s; the sweep will", regulation_id)


def _suppress(workspace: Workspace, regulation: Regulation, user_ids: Iterable[str]) -> int:
    rows = [SuppressedUser(workspace=workspace, user_id=u, regulation=regulation) for u in user_ids]
    SuppressedUser.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=("workspace", "user_id"),
        update_fields=("regulation",),
    )
    return len(rows)


def do_create_regulation(
    *,
    principal: Principal,
    workspace: Workspace,
    regulation_type: str,
    subject_type: str,
    subject_ids: list[str],
) -> Regulation:
    access.require(principal, "administer", workspace, write=True)
    kind = RegulationType(_choice(regulation_type, RegulationType, "regulation_type"))
    subject = _choice(subject_type, SubjectType, "subject_type")
    ids = clean_subject_ids(subject_ids)
    status, error = RegulationStatus.INITIALIZED, ""
    counts: dict[str, int] = {}
    if subject == SubjectType.OBJECT_ID:
        if kind not in OBJECT_TYPES:
            raise InvalidArgument(
                f"{kind} applies to users: use subject_type USER_ID ({OBJECT_ID_NOTE})",
                field="subject_type",
            )
        status, error = RegulationStatus.NOT_SUPPORTED, OBJECT_ID_NOTE
    with transaction.atomic():
        # Serialises this workspace's requests, so the quota below is the truth.
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        if status != RegulationStatus.NOT_SUPPORTED:
            used = users_in_window(workspace)
            if used + len(ids) > QUOTA_USERS:
                raise ResourceExhausted(
                    f"a workspace may name at most {QUOTA_USERS:,} users in regulations per "
                    f"30 days; {used:,} are named already, this request names {len(ids):,}",
                    field="subject_ids",
                )
        regulation = Regulation.objects.create(
            key_id=names.generate_id("rg"),
            workspace=workspace,
            regulation_type=kind,
            subject_type=subject,
            subject_ids=ids,
            status=status,
            error=error,
            created_by=principal.user if not principal.user.is_anonymous else None,
        )
        if status == RegulationStatus.INITIALIZED:
            if kind in SUPPRESSING:
                counts["suppressed"] = _suppress(workspace, regulation, ids)
            elif kind == T.UNSUPPRESS:
                gone = SuppressedUser.objects.filter(workspace=workspace, user_id__in=ids)
                counts["unsuppressed"], _ = gone.delete()
            if kind not in DELETING:
                status = RegulationStatus.FINISHED
        regulation.counts = counts
        regulation.status = status
        if status != RegulationStatus.INITIALIZED:
            regulation.finish_time = timezone.now()
        regulation.save(update_fields=("counts", "status", "finish_time"))
        audit.record(
            principal,
            AuditAction.REGULATION_CREATED,
            workspace=workspace,
            resource_name=regulation.resource_name,
            after=snapshot(regulation),
        )
        if status == RegulationStatus.INITIALIZED:
            transaction.on_commit(lambda: _enqueue(regulation.pk))
    return regulation


def _finish(regulation_id: int, **values: Any) -> None:
    Regulation.objects.filter(pk=regulation_id).update(finish_time=timezone.now(), **values)


def _abandoned(now: dt.datetime) -> models.Q:
    """RUNNING with no live worker (rows from before start_time existed: by create_time)."""
    cutoff = now - RUNNING_STALE_AFTER
    started_long_ago = models.Q(start_time__lt=cutoff) | models.Q(
        start_time=None, create_time__lt=cutoff
    )
    return models.Q(status=RegulationStatus.RUNNING) & started_long_ago


def process_regulation(regulation_id: int) -> dict[str, Any]:
    """Erase what a deletion regulation names (the task's body; no principal: the
    owner's request was checked and audited when it was created).

    Only an INITIALIZED regulation, or a RUNNING one whose worker died (started
    ``RUNNING_STALE_AFTER`` ago), is claimed (RUNNING with its start time, committed
    before the work), so a second message for it, from the sweep or a redelivery,
    does nothing. Running again is safe: erasure deletes what is still there. A
    restart is counted (``counts["restarts"]``); past ``MAX_RESTARTS`` it is FAILED."""
    now = timezone.now()
    with transaction.atomic():
        regulation = (
            Regulation.objects.select_for_update(skip_locked=True)
            .filter(
                models.Q(status=RegulationStatus.INITIALIZED) | _abandoned(now), pk=regulation_id
            )
            .first()
        )
        if regulation is None:
            return {"regulation": regulation_id, "skipped": "not waiting to run"}
        if regulation.status == RegulationStatus.RUNNING:
            restarts = int(regulation.counts.get("restarts", 0))
            if restarts >= MAX_RESTARTS:
                error = GAVE_UP.format(runs=restarts + 1)
                logger.error("regulation %s: %s", regulation.key_id, error)
                _finish(regulation_id, status=RegulationStatus.FAILED, error=error)
                return {
                    "regulation": regulation_id,
                    "status": RegulationStatus.FAILED,
                    "error": error,
                }
            logger.warning("regulation %s: its last run died; starting again", regulation.key_id)
            regulation.counts = {**regulation.counts, "restarts": restarts + 1}
        regulation.status = RegulationStatus.RUNNING
        regulation.start_time = now
        regulation.save(update_fields=("status", "start_time", "counts"))
    counts = dict(regulation.counts)
    try:
        if regulation.regulation_type in DELETING:
            counts.update(erasure.erase_users(regulation.workspace_id, regulation.subject_ids))
            # After the events: a sample is the last trace of them in the Inbox.
            counts["inbox_samples"] = detection.erase_samples(
                regulation.workspace_id, regulation.subject_ids
            )
            # The stores of other apps (Engage's profiles), registered with the
            # data plane: this app may not import them.
            counts.update(erasure.erase_elsewhere(regulation.workspace_id, regulation.subject_ids))
    except Exception as exc:
        logger.exception("regulation %s failed", regulation.key_id)
        error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
        _finish(regulation_id, status=RegulationStatus.FAILED, counts=counts, error=error)
        return {"regulation": regulation_id, "status": RegulationStatus.FAILED, "error": error}
    _finish(regulation_id, status=RegulationStatus.FINISHED, counts=counts)
    return {"regulation": regulation_id, "status": RegulationStatus.FINISHED, "counts": counts}


def requeue_stalled_regulations(now: dt.datetime | None = None) -> dict[str, int]:
    """Queue again the regulations still INITIALIZED a while after their commit
    (their message was lost: the broker was down, or the process died first) and
    those RUNNING whose worker died (process_regulation restarts or gives up)."""
    now = now or timezone.now()
    lost = models.Q(status=RegulationStatus.INITIALIZED, create_time__lt=now - STALLED_AFTER)
    stalled = Regulation.objects.filter(lost | _abandoned(now)).order_by("create_time", "pk")
    ids = list(stalled.values_list("pk", flat=True)[:SWEEP_LIMIT])
    for regulation_id in ids:
        _enqueue(regulation_id)
    return {"queued": len(ids)}
