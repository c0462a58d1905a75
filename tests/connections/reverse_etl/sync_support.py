# ruff: noqa: S608 - model queries are SQL text by design; table names are generated here.
"""A warehouse table behind a model, a webhook destination on a local HTTP server,
and a mapping between them, for the sync run tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSync
from connections.reverse_etl.services.mappings import do_create_mapping
from connections.reverse_etl.services.models import do_create_retl_model
from connections.reverse_etl.services.sources import do_create_retl_source
from switchyard.access import Principal
from tests.connections.delivery_support import Received, Server, make_setup
from tests.connections.reverse_etl.warehouse_support import WarehouseDb
from workspace.models import Workspace


@dataclass
class Synced:
    warehouse: WarehouseDb
    table: str
    model: RetlModel
    mapping: RetlMapping
    server: Server
    principal: Principal

    def received(self) -> list[dict[str, Any]]:
        """The messages the destination received (the webhook posts the whole event)."""
        return [r.json() for r in self.server.requests]

    def received_ids(self, requests: list[Received] | None = None) -> list[str]:
        found = requests if requests is not None else self.server.requests
        return sorted(r.json()["context"]["reverse_etl"]["record_id"] for r in found)

    def latest(self) -> RetlSync:
        return RetlSync.objects.filter(mapping=self.mapping).latest("create_time", "id")


def make_synced(
    owner: User, workspace: Workspace, warehouse: WarehouseDb, server: Server, **mapping: Any
) -> Synced:
    principal = Principal(owner)
    table = warehouse.table("customers")
    warehouse.run(f"CREATE TABLE {table} (customer_id text PRIMARY KEY, email text, plan text)")
    warehouse.run(
        f"INSERT INTO {table} VALUES ('c1', 'a@x.io', 'free'), ('c2', 'b@x.io', 'pro'),"
        " ('c3', 'c@x.io', 'pro')"
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
        query=f"SELECT customer_id, email, plan FROM {table}",
        identifier_column="customer_id",
    )
    setup = make_setup(owner, workspace)
    destination, _ = setup.webhook(server.url + "/hook", trigger='type = "identify"')
    values: dict[str, Any] = {
        "display_name": "Customers to the hook",
        "event_type": "identify",
        "columns": {"traits.email": "email", "traits.plan": "plan"},
        **mapping,
    }
    created = do_create_mapping(principal=principal, model=model, destination=destination, **values)
    return Synced(warehouse, table, model, created, server, principal)
