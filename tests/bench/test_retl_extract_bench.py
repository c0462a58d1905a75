"""Reverse ETL extract + diff on a 1,000,000-row model (issue 16's performance bar).

Prints the first run's extract seconds (every row added), then, with 1% of the
rows changed, the second run's extract+diff seconds next to a plain
``CREATE TEMP TABLE ... AS SELECT`` of the same model in the same warehouse,
measured in the same run, and their ratio (the bar: at most 2x). No timing
asserts; the counts are asserted.
"""

from __future__ import annotations

import time

from connections.reverse_etl.warehouses.postgres import PostgresWarehouse
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse

__all__ = ["warehouse"]

ROWS = 1_000_000
CHANGED = ROWS // 100
TIMEOUT = 3600.0
KEY = "rmod_bench"


def _fill(db: WarehouseDb) -> str:
    table = "bench_customers"
    db.run(
        f"CREATE TABLE {table} (customer_id bigint PRIMARY KEY, email text, plan text, "
        "score integer, country text, updated_at timestamptz)"
    )
    db.run(
        f"INSERT INTO {table} SELECT g, 'user' || g || '@example.com', "  # noqa: S608
        "(ARRAY['free', 'pro', 'team'])[1 + g % 3], g % 1000, "
        "(ARRAY['DE', 'FR', 'US', 'GB'])[1 + g % 4], "
        "timestamptz '2026-01-01' + g * interval '1 second' "
        f"FROM generate_series(1, {ROWS}) g"
    )
    db.run(f"VACUUM ANALYZE {table}")
    return table


def _plain_select(db: WarehouseDb, query: str) -> float:
    """The reference: the model's rows into a temporary table, nothing else."""
    with db.admin() as conn:
        started = time.perf_counter()
        conn.execute(f"CREATE TEMP TABLE plain_copy AS SELECT * FROM ({query}) AS model")  # noqa: S608
        return time.perf_counter() - started


def _timed_extract(connector: PostgresWarehouse, query: str) -> tuple[float, object]:
    started = time.perf_counter()
    result = connector.extract(KEY, query, "customer_id", timeout_s=TIMEOUT)
    return time.perf_counter() - started, result


def test_extract_and_diff_of_a_million_rows(warehouse: WarehouseDb) -> None:
    table = _fill(warehouse)
    query = f"SELECT * FROM {table}"  # noqa: S608
    connector = warehouse.connector()

    first_s, first = _timed_extract(connector, query)
    assert (first.added, first.updated, first.deleted) == (ROWS, 0, 0)  # type: ignore[attr-defined]
    started = time.perf_counter()
    committed = connector.commit_snapshot(
        KEY,
        first.extract_id,  # type: ignore[attr-defined]
        [str(i) for i in range(1, ROWS + 1)],
    )
    commit_s = time.perf_counter() - started
    assert committed == ROWS
    connector.discard_extract(KEY, first.extract_id)  # as a committed run does

    warehouse.run(
        f"UPDATE {table} SET plan = 'enterprise' WHERE customer_id % 100 = 0"  # noqa: S608
    )
    warehouse.run(f"VACUUM ANALYZE {table}")
    plain_before = _plain_select(warehouse, query)
    second_s, second = _timed_extract(connector, query)
    plain_after = _plain_select(warehouse, query)
    assert (second.added, second.updated, second.deleted) == (0, CHANGED, 0)  # type: ignore[attr-defined]
    plain_s = min(plain_before, plain_after)
    print(
        f"\nReverse ETL extract, {ROWS:,} rows: first run {first_s:.2f} s "
        f"(commit of every id {commit_s:.2f} s); second run with {CHANGED:,} changed "
        f"{second_s:.2f} s; plain SELECT into a temp table {plain_s:.2f} s "
        f"(before {plain_before:.2f}, after {plain_after:.2f}); "
        f"ratio {second_s / plain_s:.2f}x (bar: <= 2x)"
    )
