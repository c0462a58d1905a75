# ruff: noqa: S608 - model queries are SQL text by design; table names are generated here.
"""A warehouse table behind a model, a webhook destination on a local HTTP server,
and a mapping between them (the Webhook's Send action posting the whole message),
for the sync run tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User

from connections.dataplane.delivery import direct
from connections.models import Destination
from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSync
from connections.reverse_etl.services.mappings import do_create_mapping
from connections.reverse_etl.services.models import do_create_retl_model
from connections.reverse_etl.services.sources import do_create_retl_source
from switchyard.access import Principal
from tests.connections.delivery_support import Received, Server, make_setup
from tests.connections.reverse_etl.warehouse_support import WarehouseDb
from workspace.models import Workspace


@pytest.fixture
def waits(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The load's in-call retry waits, recorded instead of slept (so retries cost
    no time), with small pinned delays; the test's list of what was waited."""
    settings.RETL_LOAD_ATTEMPTS = 3
    settings.RETL_LOAD_RETRY_BASE_SECONDS = 0.01
    settings.RETL_LOAD_RETRY_MAX_DELAY_SECONDS = 0.02
    settings.RETL_LOAD_RETRY_AFTER_MAX_SECONDS = 30
    recorded: list[float] = []
    monkeypatch.setattr(direct, "sleep", recorded.append)
    return recorded


@dataclass
class Synced:
    warehouse: WarehouseDb
    table: str
    model: RetlModel
    mapping: RetlMapping
    server: Server
    principal: Principal

    def received(self) -> list[dict[str, Any]]:
        """The messages the destination received (the mapping's webhook posts the whole
        message, one request each, or arrays of them when batching)."""
        found: list[dict[str, Any]] = []
        for request in self.server.requests:
            body = request.json()
            found += body if isinstance(body, list) else [body]
        return found

    def received_ids(self, requests: list[Received] | None = None) -> list[str]:
        found = requests if requests is not None else self.server.requests
        messages: list[dict[str, Any]] = []
        for request in found:
            body = request.json()
            messages += body if isinstance(body, list) else [body]
        return sorted(m["context"]["reverse_etl"]["record_id"] for m in messages)

    @property
    def destination(self) -> Destination:
        return self.mapping.destination

    def latest(self) -> RetlSync:
        return RetlSync.objects.filter(mapping=self.mapping).latest("create_time", "id")


# The model's table past its identifier: column name -> type, and its rows.
CUSTOMER_COLUMNS = {"email": "text", "plan": "text"}
CUSTOMER_ROWS = "('c1', 'a@x.io', 'free'), ('c2', 'b@x.io', 'pro'), ('c3', 'c@x.io', 'pro')"


def make_synced(
    owner: User,
    workspace: Workspace,
    warehouse: WarehouseDb,
    server: Server,
    *,
    columns: dict[str, str] | None = None,
    rows: str = CUSTOMER_ROWS,
    **mapping: Any,
) -> Synced:
    """A table ``(customer_id text PRIMARY KEY, <columns>)`` with ``rows`` (SQL VALUES;
    empty for none), a source over the warehouse, a model selecting every column and
    the mapping (``mapping`` overrides its fields)."""
    principal = Principal(owner)
    columns = CUSTOMER_COLUMNS if columns is None else columns
    table = warehouse.table("customers")
    typed = "".join(f", {name} {kind}" for name, kind in columns.items())
    warehouse.run(f"CREATE TABLE {table} (customer_id text PRIMARY KEY{typed})")
    if rows:
        warehouse.run(f"INSERT INTO {table} VALUES {rows}")
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
        query=f"SELECT {', '.join(['customer_id', *columns])} FROM {table}",
        identifier_column="customer_id",
    )
    setup = make_setup(owner, workspace)
    destination = setup.destination("actions-webhook")
    values: dict[str, Any] = {
        "display_name": "Customers to the hook",
        "action": "send",
        "field_mappings": {"url": server.url + "/hook", "method": "POST", "data": {"@path": "$."}},
        **mapping,
    }
    created = do_create_mapping(principal=principal, model=model, destination=destination, **values)
    return Synced(warehouse, table, model, created, server, principal)
