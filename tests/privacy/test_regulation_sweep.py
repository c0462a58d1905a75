"""Regulations whose worker died mid-way: the sweep queues a RUNNING regulation
again once its run is certainly over, the new run erases what is left, a fresh
run is left alone, and one that keeps dying is given up on (FAILED, saying so)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from connections.dataplane import erasure
from connections.models import DeliveryBatch, Event
from privacy import tasks
from privacy.models import Regulation, RegulationStatus
from privacy.services import regulations as service
from tests.connections.delivery_support import make_setup
from tests.privacy.test_regulations import create, stored_users, track
from tests.privacy.test_regulations_worker import regulate, send, source_key
from tests.worker_support import celery_worker, eventually
from workspace.models import Workspace

ROOT = Path(__file__).resolve().parent.parent.parent
LONG_AGO = service.RUNNING_STALE_AFTER + dt.timedelta(minutes=1)


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


def died(regulation: Regulation, started: dt.timedelta, **counts: int) -> None:
    """The row as a run leaves it when its worker dies: RUNNING, started ``started`` ago."""
    Regulation.objects.filter(pk=regulation.pk).update(
        status=RegulationStatus.RUNNING,
        start_time=timezone.now() - started,
        counts={**regulation.counts, **counts},
    )


def these(counts: dict[str, int], *keys: str) -> dict[str, int]:
    """The counts of the stores named (other steps of erasure add their own)."""
    return {key: counts[key] for key in keys}


# -- in process --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_records_when_it_started(alice: User, acme: Workspace) -> None:
    regulation = create(alice, acme, "DELETE_ONLY", ["u-1"])
    assert regulation.start_time is None
    before = timezone.now()
    tasks.process_regulation(regulation.pk)
    regulation.refresh_from_db()
    assert regulation.start_time is not None
    assert before <= regulation.start_time <= regulation.finish_time
    assert "restarts" not in regulation.counts  # a first run is not a restart


@pytest.mark.django_db
def test_a_dead_run_is_queued_again_and_the_rerun_erases_what_is_left(
    client: Client, alice: User, acme: Workspace
) -> None:
    setup = make_setup(alice, acme)
    track(client, setup.write_key, "u-1", n=2)
    track(client, setup.write_key, "u-2", n=3)
    track(client, setup.write_key, "u-3")
    regulation = create(alice, acme, "SUPPRESS_WITH_DELETE", ["u-1", "u-2"])
    # The dead run had erased u-1 (each batch commits with its outbox references).
    erasure.erase_users(str(acme.pk), ["u-1"])
    died(regulation, LONG_AGO)
    assert service.requeue_stalled_regulations() == {"queued": 1}

    result = tasks.process_regulation(regulation.pk)

    regulation.refresh_from_db()
    assert result["status"] == RegulationStatus.FINISHED
    assert regulation.status == RegulationStatus.FINISHED, regulation.error
    assert regulation.start_time is not None
    assert timezone.now() - regulation.start_time < service.RUNNING_STALE_AFTER
    assert stored_users(acme) == {"u-3": 1}
    u3 = set(Event.objects.values_list("id", flat=True))
    assert [set(b) for b in DeliveryBatch.objects.values_list("event_ids", flat=True)] == [u3]
    # The counts are the rerun's: u-2's events and the batch that held them.
    assert these(regulation.counts, "suppressed", "restarts", *erasure.COUNTED) == {
        "suppressed": 2,
        "restarts": 1,
        "events": 3,
        "deliveries": 0,
        "delivery_batches": 1,
        "delivery_progress": 0,
    }
    assert service.requeue_stalled_regulations() == {"queued": 0}


@pytest.mark.django_db
def test_a_run_that_may_still_be_alive_is_left_alone(
    client: Client, alice: User, acme: Workspace
) -> None:
    setup = make_setup(alice, acme)
    track(client, setup.write_key, "u-1", n=2)
    regulation = create(alice, acme, "DELETE_ONLY", ["u-1"])
    # Long past the INITIALIZED bound and the task's soft limit, short of the hard one.
    recent = service.RUN_TIME_LIMIT + dt.timedelta(seconds=10)
    Regulation.objects.filter(pk=regulation.pk).update(
        create_time=timezone.now() - dt.timedelta(hours=3)
    )
    died(regulation, recent)

    assert service.requeue_stalled_regulations() == {"queued": 0}
    assert tasks.process_regulation(regulation.pk)["skipped"]
    regulation.refresh_from_db()
    assert regulation.status == RegulationStatus.RUNNING
    assert regulation.start_time is not None
    assert timezone.now() - regulation.start_time > recent  # not claimed again
    assert stored_users(acme) == {"u-1": 2}


@pytest.mark.django_db
def test_a_running_row_without_a_start_time_is_judged_by_its_age(
    alice: User, acme: Workspace
) -> None:
    # Left RUNNING before start_time was recorded.
    old = create(alice, acme, "DELETE_ONLY", ["u-1"])
    young = create(alice, acme, "DELETE_ONLY", ["u-2"])
    Regulation.objects.filter(pk__in=[old.pk, young.pk]).update(status=RegulationStatus.RUNNING)
    Regulation.objects.filter(pk=old.pk).update(create_time=timezone.now() - LONG_AGO)

    assert service.requeue_stalled_regulations() == {"queued": 1}
    assert tasks.process_regulation(young.pk)["skipped"]
    assert tasks.process_regulation(old.pk)["status"] == RegulationStatus.FINISHED


@pytest.mark.django_db
def test_the_last_allowed_restart_runs(client: Client, alice: User, acme: Workspace) -> None:
    setup = make_setup(alice, acme)
    track(client, setup.write_key, "u-1", n=2)
    regulation = create(alice, acme, "DELETE_ONLY", ["u-1"])
    died(regulation, LONG_AGO, restarts=service.MAX_RESTARTS - 1)
    assert service.requeue_stalled_regulations() == {"queued": 1}
    assert tasks.process_regulation(regulation.pk)["status"] == RegulationStatus.FINISHED
    regulation.refresh_from_db()
    assert regulation.counts["restarts"] == service.MAX_RESTARTS
    assert stored_users(acme) == {}


@pytest.mark.django_db
def test_a_regulation_that_keeps_dying_is_given_up_on(
    client: Client, alice: User, acme: Workspace
) -> None:
    setup = make_setup(alice, acme)
    track(client, setup.write_key, "u-1", n=2)
    regulation = create(alice, acme, "DELETE_ONLY", ["u-1"])
    died(regulation, LONG_AGO, restarts=service.MAX_RESTARTS)
    assert service.requeue_stalled_regulations() == {"queued": 1}

    result = tasks.process_regulation(regulation.pk)

    regulation.refresh_from_db()
    assert result["status"] == regulation.status == RegulationStatus.FAILED
    runs = service.MAX_RESTARTS + 1
    assert regulation.error.startswith(f"processing stopped without finishing {runs} times")
    assert regulation.finish_time is not None
    assert regulation.counts == {"restarts": service.MAX_RESTARTS}
    assert stored_users(acme) == {"u-1": 2}  # not run yet again
    assert service.requeue_stalled_regulations() == {"queued": 0}
    assert tasks.process_regulation(regulation.pk)["skipped"]


@pytest.mark.django_db
def test_the_api_and_the_history_show_when_processing_started(
    alice: User, acme: Workspace, api: APIClient
) -> None:
    waiting = create(alice, acme, "DELETE_ONLY", ["u-1"])
    started = create(alice, acme, "DELETE_ONLY", ["u-2"])
    when = dt.datetime(2024, 2, 29, 13, 57, tzinfo=dt.UTC)
    Regulation.objects.filter(pk=started.pk).update(
        status=RegulationStatus.RUNNING, start_time=when
    )

    url = "/v1beta/workspaces/acme/regulations"
    assert api.get(f"{url}/{waiting.key_id}").json()["start_time"] is None
    shown = api.get(f"{url}/{started.key_id}").json()["start_time"]
    assert dt.datetime.fromisoformat(shown) == when

    owner = Client()
    owner.force_login(alice)
    page = owner.get("/workspaces/acme/privacy/end-users/").content.decode()
    assert '<th scope="col">Started</th>' in page
    row = page.split(f'id="regulation-{started.key_id}"')[1].split("</tr>")[0]
    assert "2024-02-29 13:57" in row
    other = page.split(f'id="regulation-{waiting.key_id}"')[1].split("</tr>")[0]
    assert "2024-02-29" not in other


# -- a real worker killed mid-way --------------------------------------------------------------


@contextmanager
def events_locked() -> Iterator[None]:
    """Another session holds the event table, so an erasure waits on it."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
    ) as other:
        other.execute("LOCK TABLE connections_event IN ACCESS EXCLUSIVE MODE")
        yield
        other.rollback()


@pytest.fixture
def shop(alice: User, make_workspace: Callable[..., Workspace]) -> Iterator[Workspace]:
    workspace = make_workspace(alice, "acme")
    yield workspace
    # The event table (unmanaged, partitioned) is not emptied between transactional tests.
    Event.objects.filter(workspace_id=workspace.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_erasing_is_followed_by_a_run_that_finishes(
    client: Client, alice: User, shop: Workspace
) -> None:
    key = source_key(alice, shop)
    events = Event.objects.filter(workspace_id=shop.pk)
    for n in range(3):
        send(client, key, "u-1", f"a-{n}")
    send(client, key, "u-2", "b-0")
    with celery_worker("sweep", loglevel="ERROR") as first:
        # A solo worker runs one task at a time, in order: the sends' deliveries
        # (which read the event table) go first, or the erasure would queue behind them.
        eventually(lambda: not DeliveryBatch.objects.exists())
        with events_locked():
            created = regulate(alice, "DELETE_INTERNAL", ["u-1"])
            regulation = Regulation.objects.get(key_id=created["id"])
            eventually(lambda: Regulation.objects.get(pk=regulation.pk).status == "RUNNING")
            first.kill()  # mid-erasure, as an out-of-memory kill would
            first.wait(timeout=30)
    regulation.refresh_from_db()
    assert regulation.status == RegulationStatus.RUNNING
    assert regulation.start_time is not None
    assert events.filter(user_id="u-1").count() == 3

    assert tasks.sweep_regulations() == {"queued": 0}  # it may still be running
    Regulation.objects.filter(pk=regulation.pk).update(start_time=timezone.now() - LONG_AGO)
    with celery_worker("sweep", loglevel="ERROR"):
        assert tasks.sweep_regulations() == {"queued": 1}

        def settled() -> Regulation | None:
            row = Regulation.objects.get(pk=regulation.pk)
            return row if row.status != RegulationStatus.RUNNING else None

        regulation = eventually(settled)
    assert regulation.status == RegulationStatus.FINISHED, regulation.error
    assert these(regulation.counts, "restarts", *erasure.COUNTED) == {
        "restarts": 1,
        "events": 3,
        "deliveries": 0,
        "delivery_batches": 0,
        "delivery_progress": 0,
    }
    assert list(events.values_list("user_id", "message_id")) == [("u-2", "b-0")]
