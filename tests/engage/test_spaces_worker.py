"""Space deletion end to end: beat's row names the sweep, and the sweep run here
queues one task per space past its grace through the real broker, which a real
Celery worker process carries out (the space and its data go); a space whose
grace is not over, or whose deletion was cancelled, stays."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from engage import task_names, tasks
from engage.models import IdentifierSetting, Space, SpaceToken
from engage.services.spaces import do_cancel_space_deletion, do_request_space_deletion
from engage.services.tokens import do_create_space_token
from tests.engage.spaces_support import make_acme
from tests.worker_support import celery_worker, eventually
from workspace.models import AuditEntry


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    with celery_worker("spaces") as process:
        yield process


@pytest.mark.django_db
def test_beat_sweeps_space_deletions() -> None:
    row = PeriodicTask.objects.get(task=task_names.SWEEP_SPACE_DELETIONS)
    assert row.enabled and row.interval is not None


@pytest.mark.django_db(transaction=True)
def test_the_sweep_has_the_worker_delete_spaces_past_their_grace(
    worker: subprocess.Popen[bytes],
) -> None:
    acme = make_acme()
    doomed, waiting, cancelled = acme.space("dev"), acme.space("prod"), acme.space("test")
    do_create_space_token(principal=acme.principal, space=doomed)
    long_ago = timezone.now() - timedelta(days=5, minutes=1)
    do_request_space_deletion(principal=acme.principal, space=doomed, now=long_ago)
    do_request_space_deletion(principal=acme.principal, space=waiting)
    do_request_space_deletion(principal=acme.principal, space=cancelled, now=long_ago)
    do_cancel_space_deletion(principal=acme.principal, space=cancelled)

    assert tasks.sweep_space_deletions() == 1
    eventually(lambda: not Space.objects.filter(pk=doomed.pk).exists())
    assert eventually(lambda: AuditEntry.objects.filter(action="space.deleted").exists())
    assert set(Space.objects.values_list("slug", flat=True)) == {"prod", "test"}
    assert not SpaceToken.objects.filter(space_id=doomed.pk).exists()
    assert not IdentifierSetting.objects.filter(space_id=doomed.pk).exists()
    assert IdentifierSetting.objects.filter(space=waiting).exists()
