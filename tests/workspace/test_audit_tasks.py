"""The pruning task, run by a real Celery worker against the test database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from switchyard.access import Principal
from switchyard.celery import app
from workspace.models import AuditEntry
from workspace.services import audit
from workspace.tasks import prune_audit_entries


@pytest.mark.django_db(transaction=True)
def test_prune_task_runs_on_a_worker(alice: User) -> None:
    old = audit.record(Principal(alice), "source.updated", workspace=None, resource_name="s/old")
    new = audit.record(Principal(alice), "source.updated", workspace=None, resource_name="s/new")
    AuditEntry.objects.filter(pk=old.pk).update(time=timezone.now() - timedelta(days=120))
    # The in-thread worker shares this process's test database settings.
    queues = [settings.CELERY_TASK_DEFAULT_QUEUE]
    with start_worker(app, perform_ping_check=False, queues=queues, pool="solo"):
        # Beat ignores the count; this caller reads it, so asks the worker to keep it.
        assert prune_audit_entries.apply_async(ignore_result=False).get(timeout=30) == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [new.pk]
