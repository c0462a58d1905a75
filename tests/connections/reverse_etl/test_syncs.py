# ruff: noqa: S608 - warehouse statements name generated test tables.
"""Reverse ETL sync runs against a real warehouse database and a real local HTTP
destination: what each run sends, what it records, and how runs resume, cancel,
reset and refuse to overlap."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from django.contrib.auth.models import User

from connections.reverse_etl.models import RetlSync, RetlSyncRecord
from connections.reverse_etl.services import extract, syncs
from connections.reverse_etl.services.mappings import do_duplicate_mapping
from connections.reverse_etl.warehouses.postgres import SCHEMA
from switchyard.errors import AlreadyExists
from tests.connections.delivery_support import Reply, Server
from tests.connections.reverse_etl import warehouse_support
from tests.connections.reverse_etl.sync_support import Synced, make_synced, waits
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import Workspace

__all__ = ["waits", "warehouse"]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_destinations(settings: object, waits: list[float]) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # type: ignore[attr-defined]


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def synced(alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server) -> Synced:
    return make_synced(alice, acme, warehouse, server)


def run(synced: Synced) -> RetlSync:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()
    return sync


def bookkeeping_tables(synced: Synced) -> list[str]:
    with synced.warehouse.admin() as conn:
        return warehouse_support.tables_of(conn, SCHEMA, synced.mapping.key_id)


def test_first_run_sends_every_row_as_a_new_record_message_with_its_columns(
    synced: Synced,
) -> None:
    sync = run(synced)

    assert sync.status == "SUCCEEDED"
    assert (sync.extracted, sync.added, sync.updated, sync.deleted) == (3, 3, 0, 0)
    assert (sync.successful, sync.failed) == (3, 0)
    by_id = {m["properties"]["customer_id"]: m for m in synced.received()}
    assert sorted(by_id) == ["c1", "c2", "c3"]
    assert (by_id["c2"]["type"], by_id["c2"]["event"]) == ("track", "new")
    assert by_id["c2"]["properties"] == {"customer_id": "c2", "email": "b@x.io", "plan": "pro"}
    assert by_id["c2"]["messageId"] == f"retl-{sync.key_id}-{synced.mapping.key_id}-c2"
    outcomes = set(RetlSyncRecord.objects.filter(sync=sync).values_list("outcome", "committed"))
    assert outcomes == {("successful", True)}


def test_a_second_run_sends_only_the_added_and_updated_rows(synced: Synced) -> None:
    run(synced)
    synced.server.requests.clear()
    synced.warehouse.run(f"UPDATE {synced.table} SET plan = 'enterprise' WHERE customer_id = 'c1'")
    synced.warehouse.run(f"INSERT INTO {synced.table} VALUES ('c4', 'd@x.io', 'free')")

    sync = run(synced)

    assert (sync.added, sync.updated, sync.deleted) == (1, 1, 0)
    assert synced.received_ids() == ["c1", "c4"]
    by_id = {m["properties"]["customer_id"]: m for m in synced.received()}
    assert (by_id["c1"]["event"], by_id["c1"]["properties"]["plan"]) == ("updated", "enterprise")
    assert by_id["c4"]["event"] == "new"


def test_a_run_without_changes_sends_nothing(synced: Synced) -> None:
    run(synced)
    synced.server.requests.clear()

    sync = run(synced)

    assert sync.status == "SUCCEEDED"
    assert (sync.added, sync.updated, sync.deleted, sync.successful) == (0, 0, 0, 0)
    assert synced.server.requests == []


def test_deleted_records_are_sent_with_every_column_null_but_the_identifier(
    alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server
) -> None:
    synced = make_synced(alice, acme, warehouse, server, record_selection="DELETED")
    first = run(synced)
    assert (first.added, first.skipped, first.successful) == (3, 3, 0)
    assert synced.server.requests == []
    synced.warehouse.run(f"DELETE FROM {synced.table} WHERE customer_id = 'c3'")

    sync = run(synced)

    assert (sync.deleted, sync.successful) == (1, 1)
    (message,) = synced.received()
    assert (message["type"], message["event"]) == ("track", "deleted")
    assert message["context"]["reverse_etl"]["change"] == "deleted"
    assert message["properties"] == {"customer_id": "c3", "email": None, "plan": None}


def test_a_deletion_the_mapping_does_not_send_is_skipped_and_not_offered_again(
    synced: Synced,
) -> None:
    run(synced)
    synced.server.requests.clear()
    synced.warehouse.run(f"DELETE FROM {synced.table} WHERE customer_id = 'c3'")

    first = run(synced)
    second = run(synced)

    assert (first.deleted, first.skipped, first.successful) == (1, 1, 0)
    assert second.deleted == 0
    assert synced.server.requests == []


def test_a_failed_record_is_recorded_with_its_reason_and_sent_again_next_run(
    synced: Synced,
) -> None:
    synced.server.reply(Reply(status=400, body=b'{"error": "bad email"}'))

    first = run(synced)

    assert first.status == "PARTIALLY_SUCCEEDED"
    assert (first.successful, first.failed) == (2, 1)
    failed = RetlSyncRecord.objects.get(sync=first, outcome="failed")
    assert failed.reason
    assert failed.payload is not None
    assert failed.payload["properties"]["customer_id"] == failed.record_id
    assert failed.reason.startswith("errors.discarded.400")
    assert len(synced.server.requests) == 3  # a 4xx is not retried within the run
    assert not failed.committed
    # The run is over: its extract left the warehouse; the snapshot stays.
    assert bookkeeping_tables(synced) == [f"{synced.mapping.key_id}_snapshot"]
    synced.server.requests.clear()

    second = run(synced)

    assert (second.status, second.added, second.successful) == ("SUCCEEDED", 1, 1)
    assert synced.received_ids() == [failed.record_id]


def test_reset_makes_the_next_run_send_everything_again(synced: Synced) -> None:
    run(synced)
    synced.server.requests.clear()

    syncs.do_reset_mapping(principal=synced.principal, mapping=synced.mapping)
    sync = run(synced)

    assert (sync.added, sync.successful) == (3, 3)
    assert synced.received_ids() == ["c1", "c2", "c3"]


def test_resetting_the_model_resets_its_mappings(synced: Synced) -> None:
    run(synced)
    synced.server.requests.clear()

    extract.do_reset_model(principal=synced.principal, model=synced.model)
    sync = run(synced)

    assert (sync.added, sync.successful) == (3, 3)
    assert synced.received_ids() == ["c1", "c2", "c3"]


def test_resetting_the_model_is_refused_while_a_mapping_runs(synced: Synced) -> None:
    syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)

    with pytest.raises(AlreadyExists):
        extract.do_reset_model(principal=synced.principal, model=synced.model)


def test_a_second_run_while_one_is_active_is_refused_with_a_conflict(synced: Synced) -> None:
    syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)

    with pytest.raises(syncs.SyncAlreadyRunning) as refused:
        syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)

    assert refused.value.http_status == 409
    assert "already running" in str(refused.value)
    assert RetlSync.objects.filter(mapping=synced.mapping).count() == 1


def test_reset_is_refused_while_a_run_is_active(synced: Synced) -> None:
    syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)

    with pytest.raises(syncs.SyncAlreadyRunning):
        syncs.do_reset_mapping(principal=synced.principal, mapping=synced.mapping)


def test_a_run_resumed_after_a_crash_before_commit_does_not_send_again(synced: Synced) -> None:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    # The first worker did extract and load, then died before committing.
    syncs._extract(sync)
    syncs._load(sync)
    assert len(synced.server.requests) == 3

    syncs.run_sync(sync.pk)  # the redelivered task
    sync.refresh_from_db()

    assert sync.status == "SUCCEEDED"
    assert len(synced.server.requests) == 3
    synced.server.requests.clear()
    assert run(synced).added == 0  # the snapshot took the three
    assert synced.server.requests == []


def test_a_run_resumed_mid_load_sends_only_the_records_not_yet_recorded(synced: Synced) -> None:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    syncs._extract(sync)
    (first, *_) = syncs.warehouse_of(synced.model.source).changes(
        synced.mapping.key_id, sync.extract_id, after=None, limit=1
    )
    # The worker died after the load's first page: one record's outcome recorded.
    syncs._Loader(sync).load_page([first], first.id)

    syncs.run_sync(sync.pk)
    sync.refresh_from_db()

    assert sync.successful == 3
    assert synced.received_ids() == ["c1", "c2", "c3"]


def test_cancel_stops_the_load_and_commits_what_was_delivered(synced: Synced) -> None:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    syncs._extract(sync)
    syncs._set(sync, status="LOADING")
    (first, *_) = syncs.warehouse_of(synced.model.source).changes(
        synced.mapping.key_id, sync.extract_id, after=None, limit=1
    )
    syncs._Loader(sync).load_page([first], first.id)  # the load's first page

    canceling = syncs.do_cancel(principal=synced.principal, sync=sync)
    assert canceling.status == "CANCELING"
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()

    assert sync.status == "CANCELED"
    assert synced.received_ids() == ["c1"]
    synced.server.requests.clear()
    following = run(synced)
    assert following.added == 2
    assert synced.received_ids() == ["c2", "c3"]


def test_a_queued_run_cancels_at_once_and_frees_the_mapping(synced: Synced) -> None:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)

    assert syncs.do_cancel(principal=synced.principal, sync=sync).status == "CANCELED"
    syncs.run_sync(sync.pk)
    assert synced.server.requests == []
    assert run(synced).status == "SUCCEEDED"


def test_a_duplicated_mapping_is_disabled_and_keeps_its_own_snapshot(synced: Synced) -> None:
    run(synced)
    copy = do_duplicate_mapping(principal=synced.principal, mapping=synced.mapping)

    assert not copy.enabled
    assert copy.field_mappings == synced.mapping.field_mappings
    assert (copy.action, copy.record_selection) == ("send", "ADDED_OR_UPDATED")
    with pytest.raises(syncs.FailedPrecondition):
        syncs.do_run_now(principal=synced.principal, mapping=copy)
    copy.enabled = True
    copy.save(update_fields=["enabled"])
    synced.server.requests.clear()
    sync = syncs.do_run_now(principal=synced.principal, mapping=copy)
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()
    assert sync.added == 3


def test_a_run_canceled_before_its_extract_ends_canceled_without_sending(
    synced: Synced,
) -> None:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    syncs._set(sync, status="EXTRACTING")  # a worker took it, then the cancel came
    syncs.do_cancel(principal=synced.principal, sync=sync)

    syncs.run_sync(sync.pk)
    sync.refresh_from_db()

    assert sync.status == "CANCELED"
    assert not sync.extract_done
    assert synced.server.requests == []


def test_a_run_another_worker_holds_is_left_to_it(synced: Synced) -> None:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    lock = f"retl-sync:{sync.key_id}"
    with psycopg.connect(warehouse_support.database_dsn_of_tests(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))

        answer = syncs.run_sync(sync.pk)

    assert answer["running_elsewhere"] is True
    sync.refresh_from_db()
    assert sync.status == "QUEUED"
    assert synced.server.requests == []
