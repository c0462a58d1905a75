"""Profiles Insights keep 30 days: the daily prune deletes older logs in bounded
batches, and migration 0007 scheduled it (reversibly)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from engage import task_names, tasks
from engage.models import IdentityLog, InsightKind, Space
from engage.services import insights
from tests.engage.explorer_support import make_space

pytestmark = pytest.mark.django_db

migration = importlib.import_module("engage.migrations.0007_prune_insights")


def logs(space: Space, kind: str, *ages_in_days: float) -> None:
    now = timezone.now()
    IdentityLog.objects.bulk_create(
        IdentityLog(
            space=space,
            kind=kind,
            code="profile_created",
            message="created",
            message_id=f"m-{kind}-{n}",
            time=now - dt.timedelta(days=age),
        )
        for n, age in enumerate(ages_in_days)
    )


def test_logs_older_than_30_days_go_in_batches_of_every_space_and_kind(
    alice, make_workspace
) -> None:
    workspace = make_workspace(alice, "acme")
    prod, dev = make_space(workspace, "prod"), make_space(workspace, "dev")
    logs(prod, InsightKind.ERROR, 31, 45, 90, 29, 0)
    logs(prod, InsightKind.SUCCESS, 30.01, 1)
    logs(dev, InsightKind.VIOLATION, 400, 31, 29.9)

    assert insights.prune_insights(batch=2) == 6

    left = IdentityLog.objects.order_by("space_id", "kind", "time")
    assert [(log.space_id, log.kind) for log in left] == [
        (prod.pk, InsightKind.ERROR),
        (prod.pk, InsightKind.ERROR),
        (prod.pk, InsightKind.SUCCESS),
        (dev.pk, InsightKind.VIOLATION),
    ]
    cutoff = timezone.now() - dt.timedelta(days=30)
    assert all(log.time > cutoff for log in left)
    assert insights.prune_insights(batch=2) == 0


def test_beat_prunes_daily_through_the_task() -> None:
    row = PeriodicTask.objects.get(task=task_names.PRUNE_INSIGHTS)
    assert row.enabled and row.queue == "default"
    assert row.interval is not None and (row.interval.every, row.interval.period) == (1, "days")
    assert tasks.prune_insights.name == task_names.PRUNE_INSIGHTS


def test_the_schedule_is_reversible() -> None:
    migration.unschedule(apps, None)
    assert not PeriodicTask.objects.filter(task=task_names.PRUNE_INSIGHTS).exists()
    migration.schedule(apps, None)
    migration.schedule(apps, None)  # idempotent
    assert PeriodicTask.objects.filter(task=task_names.PRUNE_INSIGHTS).count() == 1
