# ruff: noqa: S608 - warehouse statements name generated test tables.
"""Reverse ETL load throughput: 50,000 added rows of a model, mapped onto a
batching Webhook (batches of 1,000), against raw HTTP posts of the same bodies
with the same client and server, in the same run.

The bar (issue 16): the load step delivers at least 5,000 rows/s. Each round
resets the mapping's snapshot, extracts (timed apart), then loads (pages of
``syncs.PAGE_SIZE``: one cancel check, one ``deliver_mapped`` call, outcomes
written with ``bulk_create``, counters and keyset once per page) and commits
the snapshot (timed apart). The baseline POSTs the very bodies the load sent,
one after another, through the delivery's HTTP client.

Timings are printed, never asserted. Run: python -m pytest
tests/bench/test_retl_load_bench.py -s.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from connections.dataplane.delivery import http
from connections.reverse_etl.models import RetlSync, RetlSyncRecord
from connections.reverse_etl.services import syncs
from connections.reverse_etl.warehouses.postgres import PostgresWarehouse
from tests.connections.delivery_support import Server
from tests.connections.reverse_etl.sync_support import make_synced
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import Workspace

__all__ = ["warehouse"]
pytestmark = pytest.mark.django_db

ROWS = 50_000
BATCH = 1_000
ROUNDS = 1
BAR = 5_000  # rows/s


def _timed(spent: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - began

    return timed


def test_load_to_a_batching_webhook_against_raw_posts(
    alice: User,
    make_workspace: Callable[..., Workspace],
    warehouse: WarehouseDb,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    # Where the load's time goes (the warehouse's page reads, delivery, the outcome rows).
    spent: dict[str, float] = {}
    load_cpu: list[float] = []  # the load's own CPU time (this process only)
    for owner, name in (
        (PostgresWarehouse, "changes"),
        (syncs, "deliver_mapped"),
        (syncs, "_insert_outcomes"),
        (syncs._Loader, "_record"),
    ):
        monkeypatch.setattr(owner, name, _timed(spent, name, getattr(owner, name)))
    server = Server()
    try:
        fields = {
            "url": f"{server.url}/hook",
            "method": "POST",
            "enable_batching": True,
            "batch_size": BATCH,
            "data": {
                "id": {"@path": "$.properties.customer_id"},
                "email": {"@path": "$.properties.email"},
                "plan": {"@path": "$.properties.plan"},
                "change": {"@path": "$.event"},
            },
        }
        synced = make_synced(
            alice, make_workspace(alice, "bench"), warehouse, server, field_mappings=fields
        )
        warehouse.run(
            f"INSERT INTO {synced.table} SELECT 'b' || lpad(g::text, 6, '0'), "
            "'user' || g || '@example.com', (ARRAY['free', 'pro', 'team'])[1 + g % 3] "
            f"FROM generate_series(4, {ROWS}) g"
        )
        warehouse.run(f"ANALYZE {synced.table}")

        def one_run() -> tuple[float, float, float]:
            syncs.do_reset_mapping(principal=synced.principal, mapping=synced.mapping)
            sync = syncs.start_sync(synced.mapping)
            sync = RetlSync.objects.select_related(
                "mapping__model__source", "mapping__destination"
            ).get(pk=sync.pk)
            began = time.perf_counter()
            syncs._extract(sync)
            extracted = time.perf_counter()
            syncs._set(sync, status="LOADING")
            cpu = time.process_time()
            syncs._load(sync)
            loaded = time.perf_counter()
            load_cpu.append(time.process_time() - cpu)
            syncs._commit(sync)
            committed = time.perf_counter()
            syncs._finish(sync, "SUCCEEDED")
            assert (sync.added, sync.successful, sync.failed) == (ROWS, ROWS, 0)
            return extracted - began, loaded - extracted, committed - loaded

        one_run()  # warm up; and the bodies the baseline replays
        bodies = [r.body for r in server.requests]
        assert len(bodies) == -(-ROWS // BATCH)
        headers = {"Content-Type": "application/json"}

        def raw() -> float:
            began = time.perf_counter()
            for body in bodies:
                assert http.send("POST", f"{server.url}/hook", headers=headers, body=body).status
            return time.perf_counter() - began

        extracts, loads, commits, posted = [], [], [], []
        spent.clear()
        load_cpu.clear()
        for _ in range(ROUNDS):  # interleaved, so both see the same machine noise
            server.requests.clear()
            e, lo, c = one_run()
            extracts.append(e)
            loads.append(lo)
            commits.append(c)
            posted.append(raw())
        assert RetlSyncRecord.objects.filter(outcome="successful").count() == ROWS * (ROUNDS + 1)
    finally:
        server.close()

    e, lo, c, p = (statistics.median(x) for x in (extracts, loads, commits, posted))
    print(
        f"\nReverse ETL load to a local batching webhook, {ROWS:,} added rows, "
        f"batches of {BATCH:,}, pages of {syncs.PAGE_SIZE:,}\n"
        f"  load:      median {ROWS / lo:,.0f} rows/s ({lo:.2f} s)  (bar: >= {BAR:,} rows/s); "
        f"this process's CPU {statistics.median(load_cpu):.2f} s\n"
        f"  raw posts: median {ROWS / p:,.0f} rows/s ({p:.2f} s, {len(bodies)} requests)\n"
        f"  ratio load/raw time: {lo / p:.2f}\n"
        f"  around it: extract {e:.2f} s, commit {c:.2f} s; whole run "
        f"{ROWS / (e + lo + c):,.0f} rows/s\n"
        "  inside the load, per round: "
        + ", ".join(f"{k} {v / ROUNDS:.2f} s" for k, v in sorted(spent.items()))
    )
