# ruff: noqa: S608 - warehouse statements name generated test tables.
"""Where a source's bookkeeping lives, end to end: the first test connection or
extract decides and the source records it; a source whose user may only read
syncs with its snapshots in Switchyard's own database, creating nothing in the
warehouse."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from connections.reverse_etl import credentials
from connections.reverse_etl.models import RetlSource, RetlSync
from connections.reverse_etl.services import syncs
from connections.reverse_etl.services.sources import do_test_connection
from tests.connections.delivery_support import Server
from tests.connections.reverse_etl.sync_support import Synced, make_synced, waits
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import Workspace

__all__ = ["waits", "warehouse"]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_destinations(settings: object, waits: list[float]) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # type: ignore[attr-defined]


@pytest.fixture
def synced(
    alice: User, make_workspace: Callable[..., Workspace], warehouse: WarehouseDb, server: Server
) -> Synced:
    return make_synced(alice, make_workspace(alice, "acme"), warehouse, server)


def run(synced: Synced) -> RetlSync:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()
    return sync


def source_of(synced: Synced) -> RetlSource:
    return RetlSource.objects.get(pk=synced.model.source_id)


def test_the_first_test_connection_records_where_bookkeeping_lives(synced: Synced) -> None:
    source = source_of(synced)
    assert source.bookkeeping == ""
    report = do_test_connection(principal=synced.principal, source=source)
    assert report.bookkeeping == "WAREHOUSE"
    assert source_of(synced).bookkeeping == "WAREHOUSE"


def test_a_read_only_source_syncs_with_its_snapshots_in_switchyard_s_database(
    synced: Synced,
) -> None:
    warehouse = synced.warehouse
    role = warehouse.make_role(
        "GRANT USAGE ON SCHEMA public TO {role}", f"GRANT SELECT ON {synced.table} TO {{role}}"
    )
    RetlSource.objects.filter(pk=synced.model.source_id).update(
        username=role, password_encrypted=credentials.encrypt("pw")
    )

    first = run(synced)
    assert first.status == "SUCCEEDED"
    assert (first.added, first.successful) == (3, 3)
    assert source_of(synced).bookkeeping == "SWITCHYARD"

    warehouse.run(f"UPDATE {synced.table} SET plan = 'team' WHERE customer_id = 'c2'")
    before = len(synced.server.requests)
    second = run(synced)
    assert (second.status, second.added, second.updated, second.deleted) == (
        "SUCCEEDED",
        0,
        1,
        0,
    )
    assert synced.received_ids(synced.server.requests[before:]) == ["c2"]
    # The role created nothing in the warehouse.
    owned = warehouse.run(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
        "+ (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) "
        "FROM pg_roles r WHERE r.rolname = %s",
        (role,),
    )
    assert owned == [(0,)]
