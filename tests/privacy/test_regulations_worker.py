"""Regulations end to end: events sent through the real Tracking API, a deletion
requested through the API and processed by a real Celery worker process (queued on
commit through the real broker); and a suppression dropping the user's next event
at the Tracking API's gate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django_celery_beat.models import PeriodicTask

from connections.models import Event
from privacy import task_names
from privacy.models import Regulation, RegulationStatus
from tests.connections.tracking_support import post
from tests.resource_contract import client_for
from workspace.models import Workspace

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker process on the test database (it sees what the test commits)."""
    from switchyard.celery import app

    name = f"regulations-{uuid.uuid4().hex[:12]}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.connections.worker_settings",
        "SWITCHYARD_TEST_DATABASE": str(connection.settings_dict["NAME"]),
    }
    command = [sys.executable, "-m", "celery", "-A", "switchyard", "worker", "--pool", "solo"]
    command += ["--hostname", name, "--queues", settings.CELERY_TASK_DEFAULT_QUEUE]
    command += ["--loglevel", "WARNING"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            assert process.poll() is None, "the worker exited while starting"
            assert time.monotonic() < deadline, "the worker did not answer within 60 s"
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def eventually(check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)
    return value


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
