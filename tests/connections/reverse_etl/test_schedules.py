"""Schedules of Reverse ETL mappings: what each kind accepts and refuses, the
django-celery-beat rows an edit writes (and a disabled or deleted mapping turns
off or removes), the scheduled trigger, and the sweeper that resumes runs whose
worker died."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from connections.reverse_etl import task_names
from connections.reverse_etl.models import RetlMapping, RetlSync
from connections.reverse_etl.models.schedules import RetlSchedule
from connections.reverse_etl.services import schedules, syncs
from connections.reverse_etl.services.mappings import do_delete_mapping, do_update_mapping
from connections.reverse_etl.services.models import do_delete_retl_model, do_update_retl_model
from switchyard.errors import InvalidArgument
from tests.connections.delivery_support import Server
from tests.connections.reverse_etl import warehouse_support
from tests.connections.reverse_etl.sync_support import Synced, make_synced
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import AuditEntry, Workspace

__all__ = ["warehouse"]
pytestmark = pytest.mark.django_db

Callbacks = Callable[..., Any]


@pytest.fixture(autouse=True)
def _local_destinations(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def synced(alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server) -> Synced:
    return make_synced(alice, acme, warehouse, server)


@pytest.fixture
def api(alice: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


def url(synced: Synced) -> str:
    return f"/v1beta/workspaces/acme/reverse-etl/mappings/{synced.mapping.key_id}/schedule"


def patch(api: APIClient, synced: Synced, **values: Any) -> Any:
    body = {
        "reverse_etl_schedule": values,
        "update_mask": {"paths": [f"reverse_etl_schedule.{k}" for k in values]},
    }
    return api.patch(url(synced), body, format="json")


def update(synced: Synced, **changes: Any) -> RetlSchedule:
    return schedules.do_update_schedule(
        principal=synced.principal, mapping=synced.mapping, changes=changes
    )


def rows(mapping: RetlMapping) -> list[PeriodicTask]:
    return list(schedules.periodic_tasks(mapping).select_related("interval", "crontab"))


# --- what each kind accepts -------------------------------------------------------------


def test_a_mapping_without_a_schedule_is_manual(api: APIClient, synced: Synced) -> None:
    answer = api.get(url(synced))

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["kind"] == "MANUAL"
    assert body["name"] == f"workspaces/acme/reverse-etl/mappings/{synced.mapping.key_id}/schedule"
    assert rows(synced.mapping) == []


@pytest.mark.parametrize("interval", list(schedules.INTERVALS))
def test_each_documented_interval_is_accepted(synced: Synced, interval: str) -> None:
    schedule = update(synced, kind="INTERVAL", interval=interval)

    assert (schedule.kind, schedule.interval) == ("INTERVAL", interval)
    (row,) = rows(synced.mapping)
    assert row.interval is not None
    assert (row.interval.every, row.interval.period) == schedules.INTERVALS[interval]


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"kind": "HOURLY"}, "kind", "kind must be one of"),
        ({"kind": "INTERVAL", "interval": "10m"}, "interval", "15m, 30m, 1h"),
        ({"kind": "INTERVAL", "interval": "3h"}, "interval", "must be one of"),
        ({"kind": "DAY_AND_TIME", "days": [], "times": ["09:00"]}, "days", "one or more"),
        ({"kind": "DAY_AND_TIME", "days": ["funday"], "times": ["09:00"]}, "days", "unknown"),
        ({"kind": "DAY_AND_TIME", "days": ["monday"], "times": []}, "times", "one or more"),
        ({"kind": "DAY_AND_TIME", "days": ["monday"], "times": ["9:00"]}, "times", "HH:MM"),
        ({"kind": "DAY_AND_TIME", "days": ["monday"], "times": ["24:00"]}, "times", "HH:MM"),
        (
            {"kind": "DAY_AND_TIME", "days": ["monday"], "times": ["09:00", "09:10"]},
            "times",
            "10 minute(s) apart",
        ),
        # 23:55 Monday and 00:05 Tuesday are ten minutes apart.
        (
            {"kind": "DAY_AND_TIME", "days": ["monday", "tuesday"], "times": ["00:05", "23:55"]},
            "times",
            "10 minute(s) apart",
        ),
        (
            {"kind": "DAY_AND_TIME", "days": ["monday"], "times": ["09:00"], "timezone": "Mars/X"},
            "timezone",
            "unknown time zone",
        ),
        ({"kind": "CRON", "cron": "*/5 * * * *"}, "cron", "5 minute(s) apart"),
        ({"kind": "CRON", "cron": "0,10 9 * * *"}, "cron", "10 minute(s) apart"),
        # 09:55 and 10:05 are ten minutes apart, though each hour's minutes are not.
        ({"kind": "CRON", "cron": "5,55 9-10 * * *"}, "cron", "10 minute(s) apart"),
        ({"kind": "CRON", "cron": "0 * * *"}, "cron", "5 fields"),
        ({"kind": "CRON", "cron": "61 * * * *"}, "cron", "invalid cron"),
        ({"kind": "CRON", "cron": "0 9 * * funday"}, "cron", "invalid cron"),
        ({"kind": "CRON", "cron": "0 0 31 2 *"}, "cron", "never occurs"),
        ({"kind": "CRON", "cron": "0 9 * * *", "timezone": "Nowhere"}, "timezone", "time zone"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_field_and_changes_nothing(
    synced: Synced, values: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        update(synced, **values)

    assert words in refused.value.message
    assert refused.value.field == field
    assert not RetlSchedule.objects.filter(mapping=synced.mapping).exists()
    assert rows(synced.mapping) == []
    assert not RetlSync.objects.filter(mapping=synced.mapping).exists()


def test_the_api_answers_a_bad_schedule_with_a_400_that_says_why(
    api: APIClient, synced: Synced
) -> None:
    answer = patch(api, synced, kind="CRON", cron="*/5 * * * *")

    assert answer.status_code == 400
    assert "at most every 15 minutes" in answer.json()["error"]
    assert rows(synced.mapping) == []
    answer = patch(api, synced, kind="INTERVAL", interval="90m")
    assert answer.status_code == 400
    assert "interval must be one of 15m, 30m, 1h" in answer.json()["error"]


@pytest.mark.parametrize(
    "values",
    [
        {"kind": "DAY_AND_TIME", "days": ["monday"], "times": ["09:00", "09:15"]},
        # Not consecutive days: 23:55 Monday and 00:05 Wednesday.
        {"kind": "DAY_AND_TIME", "days": ["monday", "wednesday"], "times": ["00:05", "23:55"]},
        {"kind": "CRON", "cron": "*/15 * * * *"},
        {"kind": "CRON", "cron": "0 9 * * mon-fri", "timezone": "America/New_York"},
        {"kind": "CRON", "cron": "55 23 * * *"},
    ],
)
def test_schedules_at_least_15_minutes_apart_are_accepted(
    synced: Synced, values: dict[str, Any]
) -> None:
    schedule = update(synced, **values)

    assert schedule.kind == values["kind"]
    assert rows(synced.mapping)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "MANUAL", "interval": "1h"}, "interval"),
        ({"kind": "INTERVAL", "interval": "1h", "cron": "0 9 * * *"}, "cron"),
        ({"kind": "CRON", "cron": "0 9 * * *", "days": ["monday"]}, "days"),
        ({"kind": "INTERVAL", "interval": "1h", "timezone": "Europe/Paris"}, "timezone"),
    ],
)
def test_a_setting_of_another_kind_is_refused_not_dropped(
    synced: Synced, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        update(synced, **values)

    assert refused.value.field == field
    assert "does not apply" in refused.value.message
    assert rows(synced.mapping) == []


def test_switching_kind_with_the_other_kinds_settings_emptied_is_accepted(
    synced: Synced,
) -> None:
    update(synced, kind="CRON", cron="0 9 * * *", timezone="Europe/Paris")

    # An update mask naming every field sends the unused ones empty.
    schedule = update(synced, kind="INTERVAL", interval="2h", cron="", days=[], timezone="")

    assert (schedule.kind, schedule.interval, schedule.cron) == ("INTERVAL", "2h", "")


def test_a_refused_edit_keeps_the_schedule_and_its_rows(synced: Synced) -> None:
    update(synced, kind="CRON", cron="0 9 * * *")
    before = [(r.pk, r.crontab_id) for r in rows(synced.mapping)]

    with pytest.raises(InvalidArgument):
        update(synced, cron="*/5 * * * *")

    schedule = RetlSchedule.objects.get(mapping=synced.mapping)
    assert (schedule.kind, schedule.cron) == ("CRON", "0 9 * * *")
    assert [(r.pk, r.crontab_id) for r in rows(synced.mapping)] == before


# --- beat's rows --------------------------------------------------------------------------


def test_edits_create_replace_and_remove_the_mappings_periodic_tasks(synced: Synced) -> None:
    mapping = synced.mapping
    update(synced, kind="INTERVAL", interval="1h")
    (row,) = rows(mapping)
    assert row.task == task_names.SCHEDULED_SYNC
    assert json.loads(row.kwargs) == {"mapping_id": mapping.pk}
    assert row.enabled and row.queue == "default"
    assert row.interval is not None and (row.interval.every, row.interval.period) == (1, "hours")

    # Day and time: one crontab per distinct minute (09:00 and 17:30 are two).
    update(
        synced,
        kind="DAY_AND_TIME",
        days=["friday", "monday"],
        times=["17:30", "09:00"],
        timezone="Europe/Paris",
    )
    found = sorted(
        (r.crontab.minute, r.crontab.hour, r.crontab.day_of_week, str(r.crontab.timezone))
        for r in rows(mapping)
        if r.crontab is not None
    )
    assert found == [("0", "9", "1,5", "Europe/Paris"), ("30", "17", "1,5", "Europe/Paris")]
    assert len(rows(mapping)) == 2
    assert all(r.interval is None for r in rows(mapping))

    update(synced, kind="CRON", cron="0 */2 * * mon-fri", timezone="")
    (row,) = rows(mapping)
    assert row.crontab is not None
    assert (row.crontab.minute, row.crontab.hour, row.crontab.day_of_week) == (
        "0",
        "*/2",
        "mon-fri",
    )
    assert str(row.crontab.timezone) == "UTC"
    schedule = RetlSchedule.objects.get(mapping=mapping)
    assert (schedule.days, schedule.times, schedule.interval) == ([], [], "")

    update(synced, kind="MANUAL")
    assert rows(mapping) == []
    assert RetlSchedule.objects.get(mapping=mapping).cron == ""


def test_a_schedule_edit_is_audited_with_before_and_after(api: APIClient, synced: Synced) -> None:
    answer = patch(api, synced, kind="CRON", cron="30 6 * * *")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["cron"] == "30 6 * * *"

    entry = AuditEntry.objects.get(action="reverse_etl_schedule.updated")
    assert entry.resource_name.endswith(f"/mappings/{synced.mapping.key_id}/schedule")
    before, after = entry.before or {}, entry.after or {}
    assert before["kind"] == "MANUAL"
    assert (after["kind"], after["cron"]) == ("CRON", "30 6 * * *")

    # The same schedule again changes nothing and writes no entry.
    assert patch(api, synced, cron="30 6 * * *").status_code == 200
    assert AuditEntry.objects.filter(action="reverse_etl_schedule.updated").count() == 1


def test_only_those_who_may_change_the_mapping_edit_its_schedule(
    synced: Synced, acme: Workspace, bob: User
) -> None:
    other = APIClient()
    other.force_authenticate(bob)

    answer = other.patch(
        url(synced),
        {"reverse_etl_schedule": {"kind": "MANUAL"}, "update_mask": {"paths": []}},
        format="json",
    )

    assert answer.status_code == 404
    assert rows(synced.mapping) == []


def test_switching_to_an_interval_starts_a_sync_at_once(
    synced: Synced, django_capture_on_commit_callbacks: Callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        schedule = update(synced, kind="INTERVAL", interval="4h")

    sync = RetlSync.objects.get(mapping=synced.mapping)
    assert sync.status == "QUEUED"
    assert len(callbacks) == 1  # its task, enqueued after commit
    assert schedule.last_trigger == f"initial sync started {sync.key_id}"
    entry = AuditEntry.objects.get(action="reverse_etl_schedule.updated")
    assert (entry.after or {})["initial_sync"] == schedule.last_trigger

    # Another interval is no switch: no second run (this one is still queued anyway).
    syncs.run_sync(sync.pk)
    update(synced, interval="1d")
    assert RetlSync.objects.filter(mapping=synced.mapping).count() == 1


def test_a_day_and_time_schedule_waits_for_its_first_time(synced: Synced) -> None:
    update(synced, kind="DAY_AND_TIME", days=["sunday"], times=["03:00"])

    assert not RetlSync.objects.filter(mapping=synced.mapping).exists()


def test_a_disabled_mapping_or_model_disables_its_rows(synced: Synced) -> None:
    update(synced, kind="CRON", cron="0 * * * *")
    principal, mapping = synced.principal, synced.mapping

    do_update_mapping(principal=principal, mapping=mapping, changes={"enabled": False})
    assert [r.enabled for r in rows(mapping)] == [False]
    do_update_mapping(principal=principal, mapping=mapping, changes={"enabled": True})
    assert [r.enabled for r in rows(mapping)] == [True]

    do_update_retl_model(principal=principal, model=synced.model, changes={"enabled": False})
    assert [r.enabled for r in rows(mapping)] == [False]
    do_update_retl_model(principal=principal, model=synced.model, changes={"enabled": True})
    assert [r.enabled for r in rows(mapping)] == [True]


def test_a_schedule_set_on_a_disabled_mapping_is_written_disabled(synced: Synced) -> None:
    do_update_mapping(
        principal=synced.principal, mapping=synced.mapping, changes={"enabled": False}
    )
    synced.mapping.refresh_from_db()

    update(synced, kind="INTERVAL", interval="1h")

    assert [r.enabled for r in rows(synced.mapping)] == [False]
    assert not RetlSync.objects.filter(mapping=synced.mapping).exists()


def test_deleting_the_mapping_or_its_model_removes_its_rows(synced: Synced) -> None:
    update(synced, kind="DAY_AND_TIME", days=["monday"], times=["09:00", "18:30"])
    assert len(rows(synced.mapping)) == 2

    do_delete_mapping(principal=synced.principal, mapping=synced.mapping)

    assert rows(synced.mapping) == []
    assert not PeriodicTask.objects.filter(task=task_names.SCHEDULED_SYNC).exists()


def test_deleting_the_model_removes_its_mappings_rows(synced: Synced) -> None:
    update(synced, kind="CRON", cron="0 9 * * *")

    do_delete_retl_model(principal=synced.principal, model=synced.model)

    assert not PeriodicTask.objects.filter(task=task_names.SCHEDULED_SYNC).exists()


# --- the scheduled trigger ----------------------------------------------------------------


def test_the_scheduled_trigger_starts_a_run(
    synced: Synced, django_capture_on_commit_callbacks: Callbacks
) -> None:
    update(synced, kind="CRON", cron="0 9 * * *")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = schedules.run_scheduled(synced.mapping.pk)

    sync = RetlSync.objects.get(mapping=synced.mapping)
    assert answer["outcome"] == f"scheduled sync started {sync.key_id}"
    assert len(callbacks) == 1
    schedule = RetlSchedule.objects.get(mapping=synced.mapping)
    assert schedule.last_trigger == answer["outcome"]
    assert schedule.last_trigger_time is not None


def test_the_scheduled_trigger_is_skipped_while_a_sync_runs(synced: Synced) -> None:
    update(synced, kind="CRON", cron="0 9 * * *")
    running = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)

    answer = schedules.run_scheduled(synced.mapping.pk)

    assert "skipped: a sync of this mapping is already running" in answer["outcome"]
    assert list(RetlSync.objects.filter(mapping=synced.mapping)) == [running]
    schedule = RetlSchedule.objects.get(mapping=synced.mapping)
    assert (
        schedule.last_trigger == "scheduled sync skipped: a sync of this mapping is already running"
    )


def test_the_scheduled_trigger_skips_a_disabled_mapping(synced: Synced) -> None:
    update(synced, kind="CRON", cron="0 9 * * *")
    RetlMapping.objects.filter(pk=synced.mapping.pk).update(enabled=False)

    answer = schedules.run_scheduled(synced.mapping.pk)

    assert "skipped: the mapping is disabled" in answer["outcome"]
    assert not RetlSync.objects.filter(mapping=synced.mapping).exists()


def test_a_trigger_for_a_removed_schedule_starts_nothing_and_drops_the_row(
    synced: Synced,
) -> None:
    # Beat fired a row just as an edit made the mapping MANUAL (or left one behind).
    update(synced, kind="CRON", cron="0 9 * * *")
    RetlSchedule.objects.filter(mapping=synced.mapping).update(kind="MANUAL")

    answer = schedules.run_scheduled(synced.mapping.pk)

    assert answer["skipped"] == "no schedule"
    assert rows(synced.mapping) == []
    assert not RetlSync.objects.filter(mapping=synced.mapping).exists()


# --- the sweeper --------------------------------------------------------------------------


def _age(sync: RetlSync, minutes: int) -> dt.datetime:
    then = timezone.now() - dt.timedelta(minutes=minutes)
    RetlSync.objects.filter(pk=sync.pk).update(update_time=then)
    return then


def test_the_sweeper_enqueues_a_stale_run_again(
    synced: Synced, django_capture_on_commit_callbacks: Callbacks
) -> None:
    sync = syncs.start_sync(synced.mapping)  # its message lost, or its worker died
    then = _age(sync, 60)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resumed = schedules.resume_stale_syncs()

    assert resumed == [sync.key_id]
    assert len(callbacks) == 1
    sync.refresh_from_db()
    assert sync.update_time > then  # the next sweep leaves it a while
    assert schedules.resume_stale_syncs() == []
    # What the enqueued task does: the run goes on and ends.
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()
    assert sync.status == "SUCCEEDED"


def test_the_sweeper_leaves_a_run_a_worker_holds_and_a_recent_one(
    synced: Synced, django_capture_on_commit_callbacks: Callbacks
) -> None:
    held = syncs.start_sync(synced.mapping)
    then = _age(held, 60)
    lock = f"retl-sync:{held.key_id}"
    with psycopg.connect(warehouse_support.database_dsn_of_tests(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert schedules.resume_stale_syncs() == []
    assert callbacks == []
    held.refresh_from_db()
    assert held.update_time == then

    # Younger than the threshold: left alone too.
    RetlSync.objects.filter(pk=held.pk).update(update_time=timezone.now())
    assert schedules.resume_stale_syncs() == []


def test_the_sweeper_threshold_is_a_setting(synced: Synced, settings: Any) -> None:
    sync = syncs.start_sync(synced.mapping)
    _age(sync, 5)
    assert schedules.resume_stale_syncs() == []

    settings.RETL_STALE_SYNC_SECONDS = 120

    assert schedules.resume_stale_syncs() == [sync.key_id]


def test_the_sweeper_runs_every_five_minutes_from_beat() -> None:
    row = PeriodicTask.objects.get(task=task_names.RESUME_STALE_SYNCS)
    assert row.enabled and row.queue == "default"
    assert row.interval is not None and (row.interval.every, row.interval.period) == (5, "minutes")
