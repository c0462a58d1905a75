"""Reverse ETL schedules: when a mapping syncs on its own, kept in django-celery-beat.

Kinds (the docs' schedule settings, plus cron):

- ``MANUAL`` (a mapping without a schedule row): only ``syncs:run`` starts a run.
- ``INTERVAL``: one of the nine documented choices, 15m ... 1d. Switching to it
  starts a run at once (the docs: "initial sync immediate for an interval
  schedule"); beat's next one is an interval later.
- ``DAY_AND_TIME``: one or more ``HH:MM`` times on selected weekdays, in a time
  zone (default UTC); the first run is at the first scheduled time.
- ``CRON``: a 5-field expression (minute hour day-of-month month day-of-week, as
  Celery's crontab reads them: day-of-week 0-6 from Sunday or names, and a day
  must match both day fields), in a time zone.

No schedule fires more often than every 15 minutes (the documented minimum):
any two firing times closer than that are refused with a 400, across midnight
too when two consecutive days fire.

Each scheduled mapping has its PeriodicTask rows (``connections.reverse_etl.
scheduled_sync`` with the mapping's id; one row, or for day-and-time one crontab
row per distinct minute), written in the same transaction as the schedule row,
so beat's DatabaseScheduler picks an edit up without a restart. A row is enabled
only while the mapping and its model are (``receivers`` keep that when either is
saved, and remove the rows when a mapping is deleted).

The scheduled task (``run_scheduled``) starts a run through ``syncs.start_sync``;
when a run is active it starts none (one run per mapping at a time) and records
on the schedule that the trigger was skipped. ``resume_stale_syncs`` (beat, every
5 minutes) re-enqueues active runs whose worker died: not updated for
``RETL_STALE_SYNC_SECONDS`` and whose per-run advisory lock nobody holds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import re
import zoneinfo
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks

from connections.reverse_etl import task_names
from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSync
from connections.reverse_etl.models.schedules import RetlSchedule
from connections.reverse_etl.services import syncs
from switchyard import locking
from switchyard.access import Principal
from switchyard.errors import FailedPrecondition, InvalidArgument
from workspace.services import audit

logger = logging.getLogger("switchyard.reverse_etl")

Kind = RetlSchedule.Kind
MIN_GAP_MINUTES = 15
# The documented interval choices, as IntervalSchedule (every, period).
INTERVALS: dict[str, tuple[int, str]] = {
    "15m": (15, IntervalSchedule.MINUTES),
    "30m": (30, IntervalSchedule.MINUTES),
    "1h": (1, IntervalSchedule.HOURS),
    "2h": (2, IntervalSchedule.HOURS),
    "4h": (4, IntervalSchedule.HOURS),
    "6h": (6, IntervalSchedule.HOURS),
    "8h": (8, IntervalSchedule.HOURS),
    "12h": (12, IntervalSchedule.HOURS),
    "1d": (1, IntervalSchedule.DAYS),
}
# Crontab's day-of-week numbers: 0 is Sunday.
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
TIMES_MAX = 24
TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
FIELDS = ("kind", "interval", "days", "times", "cron", "timezone")
TASK_PREFIX = "reverse-etl:"
# Every date pattern of day-of-month x month x weekday repeats within 28 years.
_SCAN_START = dt.date(2024, 1, 1)
_SCAN_DAYS = 28 * 366
DEFAULT_STALE_SYNC_SECONDS = 900
SWEEP_LIMIT = 200


# --- reading ------------------------------------------------------------------------------


def schedule_of(mapping: RetlMapping) -> RetlSchedule:
    """The mapping's schedule; an unsaved MANUAL one when it never had one."""
    found = RetlSchedule.objects.filter(mapping=mapping).first()
    if found is None:
        found = RetlSchedule(mapping=mapping)
    found.mapping = mapping
    return found


def snapshot(schedule: RetlSchedule) -> dict[str, Any]:
    return {f: getattr(schedule, f) for f in FIELDS}


def task_name(mapping: RetlMapping, part: int | None = None) -> str:
    base = f"{TASK_PREFIX}{mapping.key_id}"
    return base if part is None else f"{base}:{part}"


def periodic_tasks(mapping: RetlMapping) -> Any:
    """The mapping's PeriodicTask rows (a queryset)."""
    base = task_name(mapping)
    return PeriodicTask.objects.filter(Q(name=base) | Q(name__startswith=f"{base}:"))


# --- validation ---------------------------------------------------------------------------


def _clean_timezone(value: object) -> str:
    name = value if isinstance(value, str) and value else "UTC"
    if name not in zoneinfo.available_timezones():
        raise InvalidArgument(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris'",
            field="timezone",
        )
    return name


def _clean_interval(value: object) -> str:
    if value not in INTERVALS:
        raise InvalidArgument(
            f"interval must be one of {', '.join(INTERVALS)} (got {value!r})", field="interval"
        )
    return str(value)


def _clean_days(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidArgument(
            "days must list one or more weekdays, e.g. ['monday', 'friday']", field="days"
        )
    days: list[str] = []
    for day in value:
        name = day.lower() if isinstance(day, str) else day
        if name not in WEEKDAYS:
            raise InvalidArgument(
                f"unknown weekday {day!r}: use {', '.join(WEEKDAYS)}", field="days"
            )
        if name in days:
            raise InvalidArgument(f"{name} is listed twice", field="days")
        days.append(str(name))
    return sorted(days, key=WEEKDAYS.index)


def _clean_times(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidArgument("times must list one or more times as HH:MM", field="times")
    if len(value) > TIMES_MAX:
        raise InvalidArgument(f"at most {TIMES_MAX} times", field="times")
    times: set[str] = set()
    for text in value:
        if not isinstance(text, str) or not TIME.fullmatch(text):
            raise InvalidArgument(
                f"time {text!r} must be HH:MM on a 24-hour clock, e.g. '09:30'", field="times"
            )
        if text in times:
            raise InvalidArgument(f"{text} is listed twice", field="times")
        times.add(text)
    return sorted(times)


def _minutes_of(time: str) -> int:
    hours, minutes = time.split(":")
    return int(hours) * 60 + int(minutes)


def _closest(times: list[int], fires_on: Callable[[dt.date], bool]) -> int | None:
    """The shortest gap in minutes between two firing times: ``times`` (sorted
    minutes of the day) on each day ``fires_on``; across midnight only when two
    consecutive days fire. None when it never fires."""
    days = [d for n in range(_SCAN_DAYS) if fires_on(d := _SCAN_START + dt.timedelta(days=n))]
    if not days:
        return None
    gaps = [b - a for a, b in itertools.pairwise(times)]
    if any(b - a == dt.timedelta(days=1) for a, b in itertools.pairwise(days)):
        gaps.append(24 * 60 - times[-1] + times[0])
    return min(gaps) if gaps else 24 * 60


def _weekday(day: dt.date) -> int:
    return day.isoweekday() % 7  # crontab's numbering: Sunday 0


def _too_often(field: str, gap: int | None) -> None:
    if gap is None:
        raise InvalidArgument("this schedule never fires", field=field)
    if gap < MIN_GAP_MINUTES:
        raise InvalidArgument(
            f"this schedule fires {gap} minute(s) apart: Reverse ETL syncs at most every "
            f"{MIN_GAP_MINUTES} minutes",
            field=field,
        )


def _check_day_and_time(days: list[str], times: list[str]) -> None:
    numbers = {WEEKDAYS.index(d) for d in days}
    minutes = sorted(_minutes_of(t) for t in times)
    _too_often("times", _closest(minutes, lambda day: _weekday(day) in numbers))


def parse_cron(expression: object) -> crontab:
    """Celery's crontab of a 5-field expression, or a 400 naming what is wrong."""
    if not isinstance(expression, str) or len(expression.split()) != 5:
        raise InvalidArgument(
            "cron must have 5 fields: minute hour day-of-month month day-of-week "
            "(e.g. '0 */2 * * mon-fri')",
            field="cron",
        )
    if len(expression) > 200:
        raise InvalidArgument("cron must be at most 200 characters", field="cron")
    minute, hour, day_of_month, month, day_of_week = expression.split()
    try:
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month,
            day_of_week=day_of_week,
        )
    except (ValueError, TypeError, IndexError) as exc:
        message = f"invalid cron expression {expression!r}: {exc}"
        raise InvalidArgument(message, field="cron") from exc


def _check_cron(cron: crontab) -> None:
    parsed: Any = cron  # its parsed sets are untyped attributes
    minutes = sorted(h * 60 + m for h in parsed.hour for m in parsed.minute)

    def fires_on(day: dt.date) -> bool:
        return (
            day.month in parsed.month_of_year
            and day.day in parsed.day_of_month
            and _weekday(day) in parsed.day_of_week
        )

    _too_often("cron", _closest(minutes, fires_on))


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """The stored fields of a schedule from the user's: each kind keeps only its own
    settings (the others are cleared); a 400 names the first field that is wrong."""
    kind = values.get("kind")
    if kind not in Kind.values:
        raise InvalidArgument(f"kind must be one of {', '.join(Kind.values)}", field="kind")
    cleaned: dict[str, Any] = {
        "kind": kind,
        "interval": "",
        "days": [],
        "times": [],
        "cron": "",
        "timezone": "UTC",
    }
    if kind == Kind.INTERVAL:
        cleaned["interval"] = _clean_interval(values.get("interval"))
    elif kind == Kind.DAY_AND_TIME:
        cleaned["days"] = _clean_days(values.get("days"))
        cleaned["times"] = _clean_times(values.get("times"))
        cleaned["timezone"] = _clean_timezone(values.get("timezone"))
        _check_day_and_time(cleaned["days"], cleaned["times"])
    elif kind == Kind.CRON:
        cleaned["cron"] = " ".join(str(values.get("cron", "")).split())
        _check_cron(parse_cron(values.get("cron")))
        cleaned["timezone"] = _clean_timezone(values.get("timezone"))
    return cleaned


# The settings each kind reads; a value given for another kind's is refused.
USES = {
    Kind.MANUAL: set(),
    Kind.INTERVAL: {"interval"},
    Kind.DAY_AND_TIME: {"days", "times", "timezone"},
    Kind.CRON: {"cron", "timezone"},
}


def _refuse_unused(kind: str, changes: Mapping[str, Any]) -> None:
    """A setting sent for a kind that does not read it is a mistake, not a no-op
    (say, an interval with kind MANUAL): refused rather than silently dropped."""
    for field, value in changes.items():
        if field != "kind" and value not in ("", [], None) and field not in USES[Kind(kind)]:
            raise InvalidArgument(f"{field} does not apply to a {kind} schedule", field=field)


# --- writing ------------------------------------------------------------------------------


def runs_on_its_own(mapping: RetlMapping) -> bool:
    return bool(mapping.enabled and mapping.model.enabled)


def _crontabs(schedule: RetlSchedule) -> list[CrontabSchedule]:
    """Day-and-time as crontabs: one per distinct minute, with that minute's hours
    (a crontab fires at every hour x minute of its sets, so 09:00 and 17:30 take two)."""
    tz = schedule.timezone or "UTC"
    if schedule.kind == Kind.CRON:
        minute, hour, day_of_month, month, day_of_week = schedule.cron.split()
        specs = [(minute, hour, day_of_month, month, day_of_week)]
    else:
        dow = ",".join(str(WEEKDAYS.index(d)) for d in schedule.days)
        hours_by_minute: dict[int, list[int]] = {}
        for time in schedule.times:
            hours, minutes = (int(p) for p in time.split(":"))
            hours_by_minute.setdefault(minutes, []).append(hours)
        specs = [
            (str(m), ",".join(str(h) for h in sorted(hs)), "*", "*", dow)
            for m, hs in sorted(hours_by_minute.items())
        ]
    found: list[CrontabSchedule] = []
    for minute, hour, day_of_month, month, day_of_week in specs:
        row = CrontabSchedule.objects.filter(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month,
            day_of_week=day_of_week,
            timezone=tz,
        ).first() or CrontabSchedule.objects.create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month,
            day_of_week=day_of_week,
            timezone=tz,
        )
        found.append(row)
    return found


def write_periodic_tasks(schedule: RetlSchedule) -> None:
    """Replace the mapping's PeriodicTask rows by the schedule's (none for MANUAL).
    PeriodicTask's save and delete mark beat's change counter, so a running beat
    reloads its schedule at its next tick."""
    mapping = schedule.mapping
    for row in periodic_tasks(mapping):
        row.delete()
    if schedule.kind == Kind.MANUAL:
        return
    common = {
        "task": task_names.SCHEDULED_SYNC,
        "kwargs": json.dumps({"mapping_id": mapping.pk}),
        "queue": "default",
        "enabled": runs_on_its_own(mapping),
        # Beat counts the first interval from here (the initial run is started by
        # the schedule's save); a crontab fires at its next time after it.
        "last_run_at": timezone.now(),
        "description": f"Reverse ETL mapping {mapping.key_id}: {schedule.kind}",
    }
    if schedule.kind == Kind.INTERVAL:
        every, period = INTERVALS[schedule.interval]
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.create(name=task_name(mapping), interval=interval, **common)
        return
    crontabs = _crontabs(schedule)
    for n, row in enumerate(crontabs):
        part = None if len(crontabs) == 1 else n
        PeriodicTask.objects.create(name=task_name(mapping, part), crontab=row, **common)


def do_update_schedule(
    *, principal: Principal, mapping: RetlMapping, changes: Mapping[str, Any]
) -> RetlSchedule:
    """Set the mapping's schedule (update-mask semantics: the masked fields over the
    current ones, then the whole schedule is checked). Audited; the PeriodicTask rows
    change in the same transaction. Switching to INTERVAL starts a run at once."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidArgument(f"cannot update schedule field(s) {sorted(unknown)}")
    with transaction.atomic():
        # The mapping's lock serialises schedule edits (the first one creates the row).
        locked_mapping = locking.lock_for_update(
            principal, "change", mapping, write=True, related=("workspace", "model")
        )
        schedule = RetlSchedule.objects.filter(mapping=locked_mapping).first()
        schedule = schedule or RetlSchedule(mapping=locked_mapping)
        schedule.mapping = locked_mapping
        before = snapshot(schedule)
        values = clean({**before, **changes})
        _refuse_unused(values["kind"], changes)
        if schedule.pk is None:
            if values["kind"] == Kind.MANUAL:
                return schedule  # MANUAL already: nothing to store
            for key, value in values.items():
                setattr(schedule, key, value)
            schedule.save()
        elif not locking.save_changes(schedule, values):
            return schedule
        write_periodic_tasks(schedule)
        after = snapshot(schedule)
        if (
            schedule.kind == Kind.INTERVAL
            and before["kind"] != Kind.INTERVAL
            and runs_on_its_own(locked_mapping)
        ):
            after["initial_sync"] = _trigger(schedule, "initial sync")
        audit.record(
            principal,
            AuditAction.RETL_SCHEDULE_UPDATED,
            workspace=locked_mapping.workspace,
            resource_name=schedule.resource_name,
            before=before,
            after=after,
        )
    return schedule


def _trigger(schedule: RetlSchedule, why: str) -> str:
    """Start a run of the schedule's mapping (enqueued after commit) unless one is
    active or the mapping can't run; note what happened on the schedule."""
    mapping = schedule.mapping
    try:
        sync = syncs.start_sync(mapping)
    except syncs.SyncAlreadyRunning:
        outcome = f"{why} skipped: a sync of this mapping is already running"
        logger.info("reverse etl mapping %s: %s", mapping.key_id, outcome)
    except FailedPrecondition as exc:
        outcome = f"{why} skipped: {exc.message}"
    else:
        outcome = f"{why} started {sync.key_id}"
        transaction.on_commit(lambda: syncs.enqueue(sync.pk))
    RetlSchedule.objects.filter(pk=schedule.pk).update(
        last_trigger_time=timezone.now(), last_trigger=outcome[:200]
    )
    schedule.last_trigger, schedule.last_trigger_time = outcome[:200], timezone.now()
    return outcome


# --- the scheduled task, and keeping beat's rows in step ----------------------------------


def run_scheduled(mapping_id: int) -> dict[str, Any]:
    """Beat's trigger: a run of the mapping, unless one is active (then skipped and
    noted: one sync of a mapping at a time) or the mapping or its model is disabled."""
    with transaction.atomic():
        schedule = (
            RetlSchedule.objects.select_for_update(of=("self",))
            .select_related("mapping__model", "mapping__workspace")
            .filter(mapping_id=mapping_id)
            .first()
        )
        if schedule is None or schedule.kind == Kind.MANUAL:
            # The mapping went away, or beat fired a row an edit just removed.
            PeriodicTask.objects.filter(
                task=task_names.SCHEDULED_SYNC, kwargs=json.dumps({"mapping_id": mapping_id})
            ).delete()
            return {"mapping_id": mapping_id, "skipped": "no schedule"}
        outcome = _trigger(schedule, "scheduled sync")
    return {"mapping": schedule.mapping.key_id, "outcome": outcome}


def set_enabled(mapping: RetlMapping) -> None:
    """Beat's rows of the mapping run only while the mapping and its model are enabled."""
    wanted = runs_on_its_own(mapping)
    if periodic_tasks(mapping).exclude(enabled=wanted).update(enabled=wanted):
        PeriodicTasks.update_changed()  # a bulk update sends no signal: tell beat


def model_saved(model: RetlModel) -> None:
    scheduled = RetlMapping.objects.filter(model=model).exclude(schedule__kind=Kind.MANUAL)
    for mapping in scheduled.filter(schedule__isnull=False).select_related("model"):
        set_enabled(mapping)


def mapping_deleted(mapping: RetlMapping) -> None:
    if periodic_tasks(mapping).delete()[0]:
        PeriodicTasks.update_changed()


# --- resuming runs whose worker died ------------------------------------------------------


def stale_after() -> dt.timedelta:
    seconds = getattr(settings, "RETL_STALE_SYNC_SECONDS", DEFAULT_STALE_SYNC_SECONDS)
    return dt.timedelta(seconds=int(seconds))


def _held_elsewhere(sync: RetlSync) -> bool:
    """Whether a worker runs it now: its session advisory lock (``run_sync``) is held."""
    lock = f"retl-sync:{sync.key_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [lock])
        (taken,) = cursor.fetchone() or (False,)
        if taken:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [lock])
    return not taken


def resume_stale_syncs(now: dt.datetime | None = None) -> list[str]:
    """Enqueue again the active runs not updated for ``stale_after()`` whose lock no
    worker holds (a worker that died, or a message lost before a worker took it).
    The run's ``update_time`` moves, so the next sweep leaves it a while; a message
    that arrives twice is harmless (``run_sync`` takes the lock, or finds it done)."""
    now = now or timezone.now()
    stale = RetlSync.objects.filter(
        status__in=RetlSync.ACTIVE, update_time__lt=now - stale_after()
    ).order_by("update_time", "pk")
    resumed: list[str] = []
    for sync in stale[:SWEEP_LIMIT]:
        if _held_elsewhere(sync):
            continue
        moved = RetlSync.objects.filter(
            pk=sync.pk, status__in=RetlSync.ACTIVE, update_time=sync.update_time
        ).update(update_time=now)
        if moved:
            logger.warning("reverse etl sync %s was stale: enqueued again", sync.key_id)
            transaction.on_commit(partial(syncs.enqueue, sync.pk))
            resumed.append(sync.key_id)
    return resumed
