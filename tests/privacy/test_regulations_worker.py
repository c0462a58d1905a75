"""Regulations end to end: events sent through the real Tracking API, a deletion
requested through the API and processed by a real Celery worker process (queued on
commit through the real broker); and a suppression dropping the user's next event
at the Tracking API's gate."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import PeriodicTask

from connections.models import Event
from privacy import task_names
from privacy.models import Regulation, RegulationStatus
from tests.connections.tracking_support import post
from tests.resource_contract import client_for
from tests.worker_support import celery_worker, eventually
from workspace.models import Workspace


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    with celery_worker("regulations") as process:
        yield process


def source_key(owner: User, workspace: Workspace) -> str:
    from connections.models import WriteKey
    from connections.services.sources import do_create_source
    from switchyard.access import Principal

    source = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    return WriteKey.objects.get(source=source, revoke_time=None).secret


def send(client: Client, key: str, user: str, message_id: str) -> None:
    body = {"userId": user, "event": "Order Completed", "messageId": message_id}
    response = post(client, "/v1/track", body, key=key)
    assert response.status_code == 200, response.content


def regulate(owner: User, kind: str, ids: list[str]) -> dict[str, Any]:
    body = {"regulation": {"regulation_type": kind, "subject_type": "USER_ID", "subject_ids": ids}}
    response = client_for(owner)[0].post("/v1beta/workspaces/acme/regulations", body, format="json")
    assert response.status_code == 200, response.content
    return dict(response.json())


@pytest.mark.django_db(transaction=True)
def test_a_deletion_is_processed_by_the_worker(
    client: Client,
    alice: User,
    make_workspace: Callable[..., Workspace],
    worker: subprocess.Popen[bytes],
) -> None:
    workspace = make_workspace(alice, "acme")
    key = source_key(alice, workspace)
    for n in range(3):
        send(client, key, "u-1", f"a-{n}")
    send(client, key, "u-2", "b-0")

    created = regulate(alice, "DELETE_INTERNAL", ["u-1"])

    def finished() -> Regulation | None:
        row = Regulation.objects.get(key_id=created["id"])
        return row if row.status not in ("INITIALIZED", "RUNNING") else None

    regulation = eventually(finished)
    assert regulation.status == RegulationStatus.FINISHED, regulation.error
    assert regulation.counts["events"] == 3
    # This workspace's events only: committing tests elsewhere leave theirs behind.
    left = Event.objects.filter(workspace_id=workspace.pk)
    assert list(left.values_list("user_id", "message_id")) == [("u-2", "b-0")]


@pytest.mark.django_db
def test_a_suppressed_users_next_event_is_not_stored(
    client: Client, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    key = source_key(alice, make_workspace(alice, "acme"))
    send(client, key, "u-1", "before")
    regulate(alice, "SUPPRESS_ONLY", ["u-1"])
    send(client, key, "u-1", "after")  # answered 200, dropped silently
    send(client, key, "u-2", "other")
    stored = set(Event.objects.values_list("message_id", flat=True))
    assert stored == {"before", "other"}

    regulate(alice, "UNSUPPRESS", ["u-1"])
    send(client, key, "u-1", "lifted")
    assert Event.objects.filter(message_id="lifted").exists()


@pytest.mark.django_db
def test_beat_sweeps_regulations() -> None:
    row = PeriodicTask.objects.get(task=task_names.SWEEP_REGULATIONS)
    assert row.enabled and row.interval is not None
