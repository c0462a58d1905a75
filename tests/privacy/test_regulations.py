"""Regulations (end-user deletion and suppression): the service's rules, and the
erasure of every stored trace of a user, on events sent through the real
Tracking API and delivered (or left retrying) by the real delivery code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from connections.dataplane import erasure
from connections.dataplane.delivery import deliver
from connections.models import Delivery, DeliveryBatch, DeliveryProgress, Event
from privacy import tasks
from privacy.models import ObservedField, Regulation, RegulationStatus, SuppressedUser
from privacy.services import regulations as service
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, PermissionDenied, ResourceExhausted
from tests.connections.delivery_support import Reply, Server, make_setup, server
from tests.connections.tracking_support import post
from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db
__all__ = ["server"]


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


def create(owner: User, workspace: Workspace, kind: str, ids: list[str], **kw: Any) -> Regulation:
    return service.do_create_regulation(
        principal=Principal(owner),
        workspace=workspace,
        regulation_type=kind,
        subject_type=kw.pop("subject_type", "USER_ID"),
        subject_ids=ids,
    )


def track(client: Client, key: str, user: str, n: int = 1, **fields: Any) -> None:
    """Events through the real Tracking API (as a library sends them)."""
    who = {"userId": user} if user else {}
    batch = [
        {"type": "track", "event": "Order Completed", "properties": {"n": i}, **who, **fields}
        for i in range(n)
    ]
    response = post(client, "/v1/batch", {"batch": batch}, key=key)
    assert response.status_code == 200, response.content


def stored_users(workspace: Workspace) -> dict[str, int]:
    found: dict[str, int] = {}
    for user in Event.objects.filter(workspace_id=workspace.pk).values_list("user_id", flat=True):
        found[user] = found.get(user, 0) + 1
    return found


def state() -> tuple[Any, ...]:
    return (
        list(Regulation.objects.values_list("pk", "status")),
        list(SuppressedUser.objects.values_list("user_id", flat=True)),
        AuditEntry.objects.filter(action__startswith="regulation.").count(),
    )


# -- erasure: every stored trace ---------------------------------------------------------------


def test_deletion_erases_the_users_events_and_delivery_records_and_keeps_others(
    client: Client, alice: User, acme: Workspace, server: Server, settings: Any
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # the server is on 127.0.0.1
    setup = make_setup(alice, acme)
    destination, _subscription = setup.webhook(server.url + "/hook")
    other_source = make_setup(alice, acme, slug="ios")
    # u-1's first batch is delivered but fails (a failed Delivery row with the
    # request), the second waits in the outbox; u-2's stay untouched.
    server.reply(Reply(status=400, body=b'{"error": "bad"}'))
    track(client, setup.write_key, "u-1")
    first = DeliveryBatch.objects.get()
    deliver.deliver_batch(first.pk)
    assert Delivery.objects.filter(destination=destination, status="failed").count() == 1
    track(client, setup.write_key, "u-1", n=2)
    track(client, setup.write_key, "u-2", n=3)
    track(client, other_source.write_key, "u-1", n=2)
    track(client, other_source.write_key, "", anonymousId="anon-1")
    pending = list(DeliveryBatch.objects.order_by("pk").values_list("event_ids", flat=True))
    assert len(pending) == 4
    u2_ids = set(Event.objects.filter(user_id="u-2").values_list("id", flat=True))
    # A delivery re-run's progress row naming one of u-1's events beside u-2's.
    u1_event = Event.objects.filter(user_id="u-1").order_by("id").last()
    assert u1_event is not None
    DeliveryProgress.objects.create(
        batch_id=999,
        destination_id=destination.pk,
        subscription_id=1,
        event_ids=[u1_event.pk, *sorted(u2_ids)],
    )

    # The delivered batch was observed: the Inbox keeps u-1's values as samples.
    samples = ObservedField.objects.filter(sample_user_id="u-1").count()
    assert samples > 0
    regulation = create(alice, acme, "SUPPRESS_WITH_DELETE", ["u-1"])
    assert regulation.status == RegulationStatus.INITIALIZED
    result = tasks.process_regulation(regulation.pk)

    regulation.refresh_from_db()
    assert regulation.status == RegulationStatus.FINISHED, regulation.error
    assert regulation.finish_time is not None
    assert stored_users(acme) == {"u-2": 3, "": 1}
    assert not Delivery.objects.exists()
    anonymous = set(Event.objects.filter(user_id="").values_list("id", flat=True))
    batches = DeliveryBatch.objects.order_by("pk").values_list("event_ids", flat=True)
    assert [set(b) for b in batches] == [u2_ids, anonymous]  # u-1's emptied and gone
    progress = DeliveryProgress.objects.get()
    assert set(progress.event_ids) == u2_ids
    assert regulation.counts == {
        "suppressed": 1,
        "events": 5,
        "deliveries": 1,
        "delivery_batches": 2,
        "delivery_progress": 1,
        "inbox_samples": samples,
        # Engage's eraser (registered with the data plane) reports even with no space.
        "profiles": 0,
        "identity_logs": 0,
    }
    assert result["status"] == "FINISHED"


def test_deletion_is_confined_to_its_workspace(
    client: Client, alice: User, bob: User, acme: Workspace, make_workspace: Callable[..., Any]
) -> None:
    globex = make_workspace(bob, "globex")
    ours, theirs = make_setup(alice, acme), make_setup(bob, globex)
    track(client, ours.write_key, "u-1", n=2)
    track(client, theirs.write_key, "u-1", n=3)
    regulation = create(alice, acme, "DELETE_INTERNAL", ["u-1"])
    tasks.process_regulation(regulation.pk)
    assert stored_users(acme) == {}
    assert stored_users(globex) == {"u-1": 3}
    assert not SuppressedUser.objects.exists()  # DELETE_INTERNAL does not suppress


def test_erasure_works_in_batches_across_partitions(
    client: Client, alice: User, acme: Workspace
) -> None:
    setup = make_setup(alice, acme)
    track(client, setup.write_key, "u-1", n=7)
    # The same user's events on an older day's partition (moved there by hand).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_event SET received_at = received_at - interval '3 days' "
            "WHERE id IN (SELECT id FROM connections_event WHERE user_id = 'u-1' LIMIT 3)"
        )
    counts = erasure.erase_users(str(acme.pk), ["u-1", "u-1", ""], batch=2)
    assert counts["events"] == 7
    assert stored_users(acme) == {}


def test_a_user_without_events_finishes_with_zero_counts(alice: User, acme: Workspace) -> None:
    regulation = create(alice, acme, "DELETE_ONLY", ["nobody"])
    tasks.process_regulation(regulation.pk)
    regulation.refresh_from_db()
    assert regulation.status == RegulationStatus.FINISHED
    assert regulation.counts["events"] == 0


def test_a_second_run_of_the_same_regulation_does_nothing(alice: User, acme: Workspace) -> None:
    regulation = create(alice, acme, "DELETE_ONLY", ["u-1"])
    tasks.process_regulation(regulation.pk)
    assert tasks.process_regulation(regulation.pk)["skipped"]


def test_a_failed_erasure_is_recorded_failed_with_its_error(alice: User, acme: Workspace) -> None:
    regulation = create(alice, acme, "DELETE_ONLY", ["u-1"])
    # The event table gone from under it (a real database error, no mock).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE connections_event RENAME TO connections_event_away")
    try:
        tasks.process_regulation(regulation.pk)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE connections_event_away RENAME TO connections_event")
    regulation.refresh_from_db()
    assert regulation.status == RegulationStatus.FAILED
    assert "connections_event" in regulation.error
    assert regulation.finish_time is not None


# -- suppression -------------------------------------------------------------------------------


def test_suppression_upserts_and_unsuppress_removes(alice: User, acme: Workspace) -> None:
    first = create(alice, acme, "SUPPRESS_ONLY", ["u-1", "u-2"])
    assert first.status == RegulationStatus.FINISHED  # nothing left to process
    assert first.counts == {"suppressed": 2}
    again = create(alice, acme, "SUPPRESS_WITH_DELETE_INTERNAL", ["u-2", "u-3"])
    rows = dict(SuppressedUser.objects.values_list("user_id", "regulation_id"))
    assert rows == {"u-1": first.pk, "u-2": again.pk, "u-3": again.pk}

    lifted = create(alice, acme, "UNSUPPRESS", ["u-1", "u-3", "never"])
    assert lifted.status == RegulationStatus.FINISHED
    assert lifted.counts == {"unsuppressed": 2}
    assert list(SuppressedUser.objects.values_list("user_id", flat=True)) == ["u-2"]


def test_creating_a_deletion_queues_its_task_after_the_commit(
    alice: User, acme: Workspace, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        create(alice, acme, "DELETE_ONLY", ["u-1"])
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        create(alice, acme, "SUPPRESS_ONLY", ["u-1"])
    assert callbacks == []


def test_stalled_regulations_are_queued_again(alice: User, acme: Workspace) -> None:
    stalled = create(alice, acme, "DELETE_ONLY", ["u-1"])
    fresh = create(alice, acme, "DELETE_ONLY", ["u-2"])
    Regulation.objects.filter(pk=stalled.pk).update(
        create_time=timezone.now() - dt.timedelta(minutes=10)
    )
    assert service.requeue_stalled_regulations() == {"queued": 1}
    tasks.process_regulation(stalled.pk)
    assert service.requeue_stalled_regulations() == {"queued": 0}
    assert Regulation.objects.get(pk=fresh.pk).status == RegulationStatus.INITIALIZED


# -- validation, limits, access, audit ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"regulation_type": "DELETE_EVERYTHING"}, "regulation_type must be one of"),
        ({"subject_type": "EMAIL"}, "subject_type must be one of"),
        ({"subject_ids": []}, "at least one"),
        ({"subject_ids": ["ok", "  "]}, "not blank"),
        ({"subject_ids": ["x" * 257]}, "1 to 256"),
        ({"subject_ids": "u-1"}, "list of strings"),
        ({"subject_ids": [f"u-{i}" for i in range(5001)]}, "at most 5000 subject ids"),
        ({"subject_type": "OBJECT_ID", "regulation_type": "SUPPRESS_ONLY"}, "use subject_type"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    alice: User, acme: Workspace, fields: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {
        "regulation_type": "SUPPRESS_WITH_DELETE",
        "subject_type": "USER_ID",
        "subject_ids": ["u-1"],
        **fields,
    }
    before = state()
    with pytest.raises(InvalidArgument, match=message):
        service.do_create_regulation(principal=Principal(alice), workspace=acme, **args)
    assert state() == before


def test_duplicate_ids_count_once(alice: User, acme: Workspace) -> None:
    ids = ["u-1", "u-2"] * 2600  # 5,200 given, 2 distinct
    regulation = create(alice, acme, "SUPPRESS_ONLY", ids)
    assert regulation.subject_ids == ["u-1", "u-2"]


def test_the_30_day_quota_refuses_the_request_that_would_pass_it(
    alice: User, acme: Workspace, make_workspace: Callable[..., Any]
) -> None:
    for start in range(0, 110_000 - 5000, 5000):  # 105,000 users in 21 requests
        create(alice, acme, "SUPPRESS_ONLY", [f"u-{i}" for i in range(start, start + 5000)])
    create(alice, acme, "UNSUPPRESS", [f"v-{i}" for i in range(4999)])  # 109,999
    before = state()
    with pytest.raises(ResourceExhausted, match="110,000 users"):
        create(alice, acme, "DELETE_ONLY", ["w-1", "w-2"])
    assert state() == before
    create(alice, acme, "DELETE_ONLY", ["w-1"])  # exactly 110,000
    # Older than 30 days no longer counts; other workspaces have their own quota.
    Regulation.objects.filter(workspace=acme, regulation_type="SUPPRESS_ONLY").update(
        create_time=timezone.now() - dt.timedelta(days=30, minutes=1)
    )
    create(alice, acme, "DELETE_ONLY", ["w-2"])
    globex = make_workspace(alice, "globex")
    create(alice, globex, "DELETE_ONLY", [f"g-{i}" for i in range(5000)])


def test_object_id_deletions_are_recorded_not_supported(alice: User, acme: Workspace) -> None:
    regulation = create(alice, acme, "DELETE_ONLY", ["0015g00000XyZ"], subject_type="OBJECT_ID")
    assert regulation.status == RegulationStatus.NOT_SUPPORTED
    assert "object-cloud" in regulation.error
    assert regulation.finish_time is not None
    assert service.users_in_window(acme) == 0


def test_only_owners_create_regulations(alice: User, bob: User, acme: Workspace) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    before = state()
    with pytest.raises(PermissionDenied):
        create(bob, acme, "SUPPRESS_ONLY", ["u-1"])
    assert state() == before


def test_creation_is_audited(alice: User, acme: Workspace) -> None:
    regulation = create(alice, acme, "SUPPRESS_WITH_DELETE", ["u-1", "u-2"])
    entry = AuditEntry.objects.get(action="regulation.created")
    assert entry.resource_name == f"workspaces/acme/regulations/{regulation.key_id}"
    assert entry.actor_user == alice
    assert entry.after == {
        "regulation_type": "SUPPRESS_WITH_DELETE",
        "subject_type": "USER_ID",
        "subject_ids": ["u-1", "u-2"],
        "status": "INITIALIZED",
    }
