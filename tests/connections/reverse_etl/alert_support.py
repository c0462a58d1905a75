"""A mapping for the alert and consent tests, made without the sync helpers (which
change with the load): a model over a real warehouse table and a webhook
destination on a local HTTP server; the mapping row itself is created directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from connections.models import Destination
from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSync
from connections.reverse_etl.services.models import do_create_retl_model
from connections.reverse_etl.services.sources import do_create_retl_source
from switchyard import names
from switchyard.access import Principal
from tests.connections.delivery_support import Server, make_setup
from tests.connections.reverse_etl.warehouse_support import WarehouseDb
from workspace.models import Workspace


@dataclass
class Mapped:
    warehouse: WarehouseDb
    principal: Principal
    table: str
    model: RetlModel
    destination: Destination
    mapping: RetlMapping

    def warehouse_drop(self) -> None:
        self.warehouse.run(f"DROP TABLE {self.table}")

    def run(self, *, finished: datetime, successful: int = 0, failed: int = 0) -> RetlSync:
        """A finished run's row with its load counts (what the rate alert reads)."""
        return RetlSync.objects.create(
            key_id=names.generate_id("rsyn"),
            mapping=self.mapping,
            status="PARTIALLY_SUCCEEDED" if failed else "SUCCEEDED",
            successful=successful,
            failed=failed,
            finish_time=finished,
        )


def make_mapped(
    owner: User, workspace: Workspace, warehouse: WarehouseDb, server: Server
) -> Mapped:
    principal = Principal(owner)
    table = warehouse.table("consenting")
    warehouse.run(
        f"CREATE TABLE {table} (customer_id text PRIMARY KEY, plan text,"
        " ads boolean, analytics boolean)"
    )
    s = warehouse.settings()
    source = do_create_retl_source(
        principal=principal,
        workspace=workspace,
        slug="dwh",
        display_name="Warehouse",
        host=s.host,
        port=s.port,
        database=s.database,
        username=s.username,
        password=s.password or "unused",
        ssl_mode=s.ssl_mode,
    )
    model = do_create_retl_model(
        principal=principal,
        source=source,
        slug="customers",
        display_name="Customers",
        query=f"SELECT customer_id, plan, ads, analytics FROM {table}",  # noqa: S608
        identifier_column="customer_id",
    )
    destination, _ = make_setup(owner, workspace).webhook(server.url + "/hook")
    mapping = RetlMapping.objects.create(
        key_id=names.generate_id("rmap"),
        workspace=workspace,
        model=model,
        destination=destination,
        display_name="Customers to the hook",
    )
    return Mapped(warehouse, principal, table, model, destination, mapping)


def hours_ago(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)
