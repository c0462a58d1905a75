"""Schedule changes take effect without a restart: a real beat process (the
DatabaseScheduler on the test database) and a real Celery worker, while the
schedule is edited through the API.

And the sweeper, sent by beat from its row, resumes a run no worker holds.

Time is not waited for: "the interval has passed" is written as beat would find
it, the row's ``last_run_at`` moved back, which beat reads again because the row
changed (as it does for any edit)."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.test import APIClient

from connections.reverse_etl import task_names
from connections.reverse_etl.models import RetlSync
from connections.reverse_etl.models.schedules import RetlSchedule
from connections.reverse_etl.services import schedules, syncs
from switchyard.access import Principal
from tests.connections.delivery_support import Server
from tests.connections.reverse_etl.sync_support import Synced, make_synced
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from tests.worker_support import celery_beat, celery_worker, eventually
from workspace.services.workspaces import do_create_workspace

__all__ = ["warehouse"]


@pytest.fixture(scope="module")
def worker(django_db_setup: None) -> Iterator[subprocess.Popen[bytes]]:
    with celery_worker("retl-schedules", DELIVERY_ALLOW_PRIVATE_NETWORKS="true") as process:
        yield process


def finished_runs(synced: Synced) -> list[RetlSync]:
    runs = RetlSync.objects.filter(mapping=synced.mapping).order_by("create_time", "pk")
    return [r for r in runs if r.status not in RetlSync.ACTIVE]


def make_due(synced: Synced) -> None:
    """The schedule's time has come, as beat will see it at its next tick."""
    for row in schedules.periodic_tasks(synced.mapping):
        row.last_run_at = timezone.now() - dt.timedelta(days=1)
        row.save()


@pytest.mark.django_db(transaction=True)
def test_schedule_changes_take_effect_on_a_running_beat(
    worker: subprocess.Popen[bytes],
    warehouse: WarehouseDb,
    server: Server,
    alice: User,
    tmp_path: Path,
) -> None:
    principal = Principal(alice)
    acme = do_create_workspace(principal=principal, slug="acme", display_name="Acme")
    beta = do_create_workspace(principal=principal, slug="beta", display_name="Beta")
    a = make_synced(alice, acme, warehouse, server)
    b = make_synced(alice, beta, warehouse, server)
    # Beat fires only the rows of this test: rows of data migrations are off (or were
    # emptied by an earlier transactional test).
    PeriodicTask.objects.exclude(task=task_names.SCHEDULED_SYNC).update(enabled=False)
    api = APIClient()
    api.force_authenticate(alice)
    url = f"/v1beta/workspaces/acme/reverse-etl/mappings/{a.mapping.key_id}/schedule"

    with celery_beat(tmp_path):
        # An interval schedule syncs at once (the docs' initial sync)...
        answer = api.patch(
            url,
            {
                "reverse_etl_schedule": {"kind": "INTERVAL", "interval": "15m"},
                "update_mask": {
                    "paths": ["reverse_etl_schedule.kind", "reverse_etl_schedule.interval"]
                },
            },
            format="json",
        )
        assert answer.status_code == 200, answer.json()
        (first,) = eventually(lambda: finished_runs(a))
        assert first.status == "SUCCEEDED", first.error
        assert a.received_ids(server.wait_for(3)) == ["c1", "c2", "c3"]

        # ... and again when its interval has passed: beat, reading the edited row.
        make_due(a)
        runs = eventually(lambda: (found := finished_runs(a)) and len(found) == 2 and found)
        second = runs[1]
        schedule = RetlSchedule.objects.get(mapping=a.mapping)
        assert schedule.last_trigger == f"scheduled sync started {second.key_id}"

        # MANUAL: beat drops the mapping. Its row would have been due (moved back in
        # the same transaction), and another mapping's row is due, so the tick that
        # runs b also shows that a had no row any more.
        with transaction.atomic():
            make_due(a)
            schedules.do_update_schedule(
                principal=principal, mapping=a.mapping, changes={"kind": "MANUAL"}
            )
            schedules.do_update_schedule(
                principal=principal,
                mapping=b.mapping,
                changes={"kind": "CRON", "cron": "*/15 * * * *"},
            )
            make_due(b)
        (of_b,) = eventually(lambda: finished_runs(b), timeout=120)
        assert of_b.status == "SUCCEEDED", of_b.error

    # a's scheduled_sync would have been sent in b's tick, before b's run was queued
    # (the worker takes messages in order, one at a time).
    assert len(RetlSync.objects.filter(mapping=a.mapping)) == 2
    assert not PeriodicTask.objects.filter(name__startswith=f"reverse-etl:{a.mapping.key_id}")


@pytest.mark.django_db(transaction=True)
def test_beat_sweeps_a_run_whose_worker_died_and_a_worker_finishes_it(
    worker: subprocess.Popen[bytes],
    warehouse: WarehouseDb,
    server: Server,
    alice: User,
    tmp_path: Path,
) -> None:
    acme = do_create_workspace(principal=Principal(alice), slug="acme", display_name="Acme")
    a = make_synced(alice, acme, warehouse, server)
    # A run that was queued an hour ago and never ran (its message was lost, or the
    # worker that took it died before anything was recorded).
    lost = syncs.start_sync(a.mapping)
    RetlSync.objects.filter(pk=lost.pk).update(update_time=timezone.now() - dt.timedelta(hours=1))
    # Beat's row as migration 0005 writes it (an earlier transactional test may have
    # emptied the table), due now; the other rows are off.
    PeriodicTask.objects.exclude(task=task_names.RESUME_STALE_SYNCS).update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="Resume stale Reverse ETL syncs",
        defaults={
            "task": task_names.RESUME_STALE_SYNCS,
            "interval": every,
            "queue": "default",
            "enabled": True,
            "last_run_at": timezone.now() - dt.timedelta(hours=1),
        },
    )

    with celery_beat(tmp_path):
        (done,) = eventually(lambda: finished_runs(a), timeout=120)

    assert (done.key_id, done.status, done.successful) == (lost.key_id, "SUCCEEDED", 3)
    assert a.received_ids(server.wait_for(3)) == ["c1", "c2", "c3"]
