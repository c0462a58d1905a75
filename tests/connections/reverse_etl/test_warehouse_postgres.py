# ruff: noqa: S608 - model queries are SQL text by design; table names are generated here.
"""The PostgreSQL connector against a real warehouse database: the setup guide's
connection checks, the read-only preview, and the extract/diff engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from connections.reverse_etl.warehouses.base import (
    Bookkeeping,
    BookkeepingOptions,
    BookkeepingUnavailable,
    QueryError,
    StaleExtract,
)
from connections.reverse_etl.warehouses.postgres import LOCAL_SCHEMA, SCHEMA, PostgresWarehouse
from tests.connections.reverse_etl.warehouse_support import (
    WarehouseDb,
    database_dsn_of_tests,
    tables_of,
    warehouse,
)

__all__ = ["warehouse"]

TIMEOUT = 60.0


@dataclass
class Engine:
    """The extract/diff engine with its bookkeeping in the warehouse, or in
    Switchyard's own database (the tests' database)."""

    warehouse: WarehouseDb
    mode: Bookkeeping
    local_dsn: str

    def connector(self, user: str | None = None) -> PostgresWarehouse:
        return self.warehouse.connector(
            user, bookkeeping=BookkeepingOptions(mode=self.mode, local_dsn=self.local_dsn)
        )


@pytest.fixture(scope="module")
def local_dsn(warehouse: WarehouseDb, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        dsn = database_dsn_of_tests()
    yield dsn
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{LOCAL_SCHEMA}" CASCADE')


@pytest.fixture(params=["WAREHOUSE", "SWITCHYARD"])
def engine(request: pytest.FixtureRequest, warehouse: WarehouseDb, local_dsn: str) -> Engine:
    return Engine(warehouse, request.param, local_dsn)


def local_tables(dsn: str, key: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return tables_of(conn, LOCAL_SCHEMA, key)


def users_table(warehouse: WarehouseDb, rows: int = 5) -> str:
    table = warehouse.table("users")
    warehouse.run(f"CREATE TABLE {table} (id int PRIMARY KEY, email text, plan text)")
    warehouse.run(
        f"INSERT INTO {table} SELECT g, 'u' || g || '@example.com', 'free' "
        f"FROM generate_series(1, {rows}) g"
    )
    return table


def checks_of(report: object) -> dict[str, tuple[bool, str]]:
    return {c.name: (c.passed, c.detail) for c in report.checks}  # type: ignore[attr-defined]


# -- test connection -----------------------------------------------------------------------


def test_a_user_who_may_create_schemas_passes_every_check(warehouse: WarehouseDb) -> None:
    users_table(warehouse)
    report = warehouse.connector().test_connection()
    checks = checks_of(report)
    assert [c.name for c in report.checks] == ["connect", "read", "bookkeeping"]
    assert all(passed for passed, _ in checks.values()), checks
    assert report.ok and report.bookkeeping == "WAREHOUSE"
    assert warehouse.run("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)) == [(1,)]


def test_a_read_only_user_is_told_bookkeeping_lives_in_switchyard(
    warehouse: WarehouseDb,
) -> None:
    table = users_table(warehouse)
    # The schema may exist already (another test created it): the user may not use it.
    role = warehouse.make_role(
        "GRANT USAGE ON SCHEMA public TO {role}", f"GRANT SELECT ON {table} TO {{role}}"
    )
    report = warehouse.connector(role).test_connection()
    checks = checks_of(report)
    assert checks["connect"][0] and checks["read"][0]
    passed, detail = checks["bookkeeping"]
    assert not passed
    assert SCHEMA in detail and "Switchyard's own database" in detail
    assert report.ok and report.bookkeeping == "SWITCHYARD"


def test_a_user_who_can_read_nothing_fails_the_read_check(warehouse: WarehouseDb) -> None:
    users_table(warehouse)
    role = warehouse.make_role()
    report = warehouse.connector(role).test_connection()
    passed, detail = checks_of(report)["read"]
    assert not passed and "SELECT" in detail
    assert not report.ok


def test_a_connection_that_fails_reports_why_and_checks_nothing_else(
    warehouse: WarehouseDb,
) -> None:
    report = warehouse.connector(database="no_such_database_here").test_connection()
    checks = checks_of(report)
    assert not checks["connect"][0]
    assert "no_such_database_here" in checks["connect"][1]
    assert checks["read"] == (False, "not checked: could not connect")
    assert not report.ok


# -- models: validation and preview --------------------------------------------------------


def test_preview_is_limited_and_says_whether_the_identifier_is_unique(
    warehouse: WarehouseDb,
) -> None:
    table = users_table(warehouse, rows=30)
    connector = warehouse.connector()
    preview = connector.preview(f"SELECT * FROM {table} ORDER BY id", "id", limit=10, timeout_s=5)
    assert preview.columns == ("id", "email", "plan")
    assert [r["id"] for r in preview.rows] == list(range(1, 11))
    assert preview.limited and preview.identifier_unique and preview.identifier_nulls == 0
    repeated = connector.preview(f"SELECT plan AS id FROM {table}", "id", limit=5, timeout_s=5)
    assert not repeated.identifier_unique


def test_a_query_that_writes_is_refused_and_changes_nothing(warehouse: WarehouseDb) -> None:
    table = users_table(warehouse)
    warehouse.run("CREATE SEQUENCE IF NOT EXISTS retl_seq")
    connector = warehouse.connector()
    with pytest.raises(QueryError, match="read-only"):
        connector.preview("SELECT nextval('retl_seq') AS id", "id", limit=5, timeout_s=5)
    with pytest.raises(QueryError, match="top level"):
        connector.columns(
            f"WITH gone AS (DELETE FROM {table} RETURNING id) SELECT id FROM gone", timeout_s=5
        )
    with pytest.raises(QueryError):
        connector.columns(f"SELECT 1 AS id; DROP TABLE {table}", timeout_s=5)
    assert warehouse.run(f"SELECT count(*) FROM {table}") == [(5,)]
    assert warehouse.run("SELECT last_value, is_called FROM retl_seq") == [(1, False)]


def test_a_slow_query_stops_at_its_time_limit(warehouse: WarehouseDb) -> None:
    with pytest.raises(QueryError, match="time limit"):
        warehouse.connector().preview("SELECT 1 AS id, pg_sleep(30)", "id", limit=1, timeout_s=1)


def test_percent_signs_and_a_trailing_comment_are_the_query_s_own(
    warehouse: WarehouseDb,
) -> None:
    table = users_table(warehouse)
    query = f"SELECT * FROM {table} WHERE email LIKE 'u1%' -- only user 1;"
    preview = warehouse.connector().preview(query, "id", limit=5, timeout_s=5)
    assert [r["id"] for r in preview.rows] == [1]


# -- extract and diff ----------------------------------------------------------------------


def test_first_extract_adds_every_row_and_commit_advances_only_delivered_ids(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = users_table(warehouse, rows=5)
    connector, key, query = engine.connector(), "rmod_first", f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (first.extracted, first.added, first.updated, first.deleted) == (5, 5, 0, 0)
    records = connector.changes(key, first.extract_id, after=None, limit=100)
    assert [(r.id, r.change) for r in records] == [(str(i), "added") for i in range(1, 6)]
    assert records[0].row == {"id": 1, "email": "u1@example.com", "plan": "free"}
    # Only 1-3 were delivered: 4 and 5 are still new next time.
    assert connector.commit_snapshot(key, first.extract_id, ["1", "2", "3"]) == 3
    assert [r.id for r in connector.changes(key, first.extract_id, after=None, limit=9)] == [
        "4",
        "5",
    ]
    second = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (second.added, second.updated, second.deleted) == (2, 0, 0)
    assert [r.id for r in connector.changes(key, second.extract_id, after=None, limit=9)] == [
        "4",
        "5",
    ]


def test_added_updated_and_deleted_rows_are_found_in_the_warehouse(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = users_table(warehouse, rows=5)
    connector, key, query = engine.connector(), "rmod_diff", f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, [str(i) for i in range(1, 6)])
    unchanged = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (unchanged.added, unchanged.updated, unchanged.deleted) == (0, 0, 0)

    warehouse.run(f"UPDATE {table} SET plan = 'pro' WHERE id = 2")
    warehouse.run(f"DELETE FROM {table} WHERE id = 3")
    warehouse.run(f"INSERT INTO {table} VALUES (9, 'new@example.com', 'free')")
    run = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (run.extracted, run.added, run.updated, run.deleted) == (5, 1, 1, 1)
    records = connector.changes(key, run.extract_id, after=None, limit=100)
    assert [(r.id, r.change, r.row) for r in records] == [
        ("2", "updated", {"id": 2, "email": "u2@example.com", "plan": "pro"}),
        ("3", "deleted", None),
        ("9", "added", {"id": 9, "email": "new@example.com", "plan": "free"}),
    ]
    # Pages: keyset on the identifier.
    page = connector.changes(key, run.extract_id, after="2", limit=1)
    assert [r.id for r in page] == ["3"]

    # The deletion is delivered, the update is not: only the deletion leaves the diff.
    assert connector.commit_snapshot(key, run.extract_id, ["3"]) == 1
    again = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (again.added, again.updated, again.deleted) == (1, 1, 0)


def test_commit_for_an_extract_that_was_replaced_is_refused(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = users_table(warehouse, rows=2)
    connector, key, query = engine.connector(), "rmod_stale", f"SELECT * FROM {table}"
    old = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.extract(key, query, "id", timeout_s=TIMEOUT)
    with pytest.raises(StaleExtract):
        connector.commit_snapshot(key, old.extract_id, ["1"])


def test_reset_forgets_the_snapshot(warehouse: WarehouseDb, engine: Engine) -> None:
    table = users_table(warehouse, rows=3)
    connector, key, query = engine.connector(), "rmod_reset", f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, ["1", "2", "3"])
    connector.reset(key)
    with pytest.raises(StaleExtract):
        connector.commit_snapshot(key, first.extract_id, ["1"])
    after = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (after.added, after.updated, after.deleted) == (3, 0, 0)


@contextmanager
def bookkeeping(engine: Engine) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """A connection to where the engine keeps its bookkeeping, and the schema."""
    if engine.mode == "SWITCHYARD":
        conn, schema = psycopg.connect(engine.local_dsn, autocommit=True), LOCAL_SCHEMA
    else:
        conn, schema = engine.warehouse.admin(), SCHEMA
    with conn:
        yield conn, schema


def bookkeeping_tables(engine: Engine, key: str) -> list[str]:
    with bookkeeping(engine) as (conn, schema):
        return tables_of(conn, schema, key)


def kept_stats(engine: Engine, key: str) -> tuple[Any, ...] | None:
    """What the bookkeeping keeps of the snapshot: (rows, fp)."""
    with bookkeeping(engine) as (conn, schema):
        return conn.execute(
            f'SELECT rows, fp FROM "{schema}".snapshots WHERE key = %s', (key,)
        ).fetchone()


def held_stats(engine: Engine, key: str) -> tuple[Any, ...] | None:
    """What the snapshot holds: (rows, XOR of its ids' hashes)."""
    with bookkeeping(engine) as (conn, schema):
        return conn.execute(
            "SELECT count(*), coalesce(bit_xor(hashint8extended(id, 0)), 0) "
            f'FROM "{schema}"."{key}_snapshot"'
        ).fetchone()


def test_a_finished_run_s_extract_is_dropped_but_a_newer_one_is_kept(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = users_table(warehouse, rows=3)
    connector, key, query = engine.connector(), "rmod_discard", f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, ["1", "2", "3"])
    connector.discard_extract(key, first.extract_id)
    assert bookkeeping_tables(engine, key) == [f"{key}_snapshot"]
    # The snapshot is what counts: nothing is new next time.
    older = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (older.added, older.updated, older.deleted) == (0, 0, 0)

    warehouse.run(f"UPDATE {table} SET plan = 'pro' WHERE id = 2")
    newer = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.discard_extract(key, older.extract_id)  # replaced: not its to drop
    assert bookkeeping_tables(engine, key) == [f"{key}_extract", f"{key}_snapshot"]
    records = connector.changes(key, newer.extract_id, after=None, limit=9)
    assert [(r.id, r.change) for r in records] == [("2", "updated")]


def test_the_snapshot_s_count_and_fingerprint_follow_each_commit(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = users_table(warehouse, rows=4)
    connector, key, query = engine.connector(), "rmod_stats", f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, ["1", "2"])
    assert kept_stats(engine, key) == held_stats(engine, key)
    connector.commit_snapshot(key, first.extract_id, ["3", "4"])
    assert kept_stats(engine, key) == held_stats(engine, key)

    warehouse.run(f"UPDATE {table} SET plan = 'pro' WHERE id = 1")
    warehouse.run(f"DELETE FROM {table} WHERE id = 4")
    run = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (run.added, run.updated, run.deleted) == (0, 1, 1)
    connector.commit_snapshot(key, run.extract_id, ["1", "4"])  # an update and a deletion
    assert kept_stats(engine, key) == held_stats(engine, key)
    assert (held_stats(engine, key) or (0,))[0] == 3

    # Nothing kept (a snapshot from before): the diff counts the snapshot, finds the
    # deletion, and keeps what it counted.
    with bookkeeping(engine) as (conn, schema):
        conn.execute(f'DELETE FROM "{schema}".snapshots WHERE key = %s', (key,))
    warehouse.run(f"DELETE FROM {table} WHERE id = 3")
    again = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (again.added, again.updated, again.deleted) == (0, 0, 1)
    assert kept_stats(engine, key) == held_stats(engine, key)
    connector.reset(key)
    assert kept_stats(engine, key) is None


def test_null_and_repeated_identifiers_are_dropped_and_counted(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    query = "SELECT * FROM (VALUES ('a', 1), ('b', 2), ('b', 3), (NULL, 4)) AS v(id, n)"
    connector = engine.connector()
    run = connector.extract("rmod_dupes", query, "id", timeout_s=TIMEOUT)
    assert (run.extracted, run.added, run.duplicates, run.null_ids) == (4, 1, 2, 1)
    records = connector.changes("rmod_dupes", run.extract_id, after=None, limit=9)
    assert [r.id for r in records] == ["a"]


def test_an_odd_identifier_column_name_is_quoted_not_spliced(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    query = """SELECT 'x' AS "we'ird ""id"" ); DROP TABLE t; --", 1 AS n"""
    connector = engine.connector()
    run = connector.extract(
        "rmod_odd", query, """we'ird "id" ); DROP TABLE t; --""", timeout_s=TIMEOUT
    )
    assert (run.added, run.null_ids) == (1, 0)


def test_an_unsafe_bookkeeping_key_is_refused(warehouse: WarehouseDb, engine: Engine) -> None:
    with pytest.raises(ValueError, match="bookkeeping key"):
        engine.connector().extract(
            'x"; DROP SCHEMA public; --', "SELECT 1 AS id", "id", timeout_s=5
        )


def read_only_role(warehouse: WarehouseDb, table: str) -> str:
    return warehouse.make_role(
        "GRANT USAGE ON SCHEMA public TO {role}", f"GRANT SELECT ON {table} TO {{role}}"
    )


def test_a_read_only_user_syncs_with_bookkeeping_in_switchyard_s_database(
    warehouse: WarehouseDb, local_dsn: str
) -> None:
    table = users_table(warehouse, rows=5)
    role = read_only_role(warehouse, table)
    decided: list[str] = []
    options = BookkeepingOptions(local_dsn=local_dsn, on_decided=decided.append)
    connector = warehouse.connector(role, bookkeeping=options)
    key, query = "rmod_readonly", f"SELECT * FROM {table} WHERE email LIKE 'u%'"

    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert decided == ["SWITCHYARD"]
    assert (first.extracted, first.added, first.updated, first.deleted) == (5, 5, 0, 0)
    records = connector.changes(key, first.extract_id, after=None, limit=100)
    assert records[0].row == {"id": 1, "email": "u1@example.com", "plan": "free"}
    assert connector.commit_snapshot(key, first.extract_id, [r.id for r in records]) == 5

    warehouse.run(f"UPDATE {table} SET plan = 'pro' WHERE id = 2")
    warehouse.run(f"DELETE FROM {table} WHERE id = 3")
    warehouse.run(f"INSERT INTO {table} VALUES (9, 'u9@example.com', 'free')")
    # A later connector is told the recorded mode, as the source keeps it.
    later = warehouse.connector(
        role, bookkeeping=BookkeepingOptions(mode="SWITCHYARD", local_dsn=local_dsn)
    )
    run = later.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (run.added, run.updated, run.deleted) == (1, 1, 1)
    assert [
        (r.id, r.change, r.row) for r in later.changes(key, run.extract_id, after=None, limit=9)
    ] == [
        ("2", "updated", {"id": 2, "email": "u2@example.com", "plan": "pro"}),
        ("3", "deleted", None),
        ("9", "added", {"id": 9, "email": "u9@example.com", "plan": "free"}),
    ]
    assert local_tables(local_dsn, key) == [f"{key}_extract", f"{key}_snapshot"]
    # Nothing was created in the warehouse: the role owns no table, schema or sequence.
    owned = warehouse.run(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
        "+ (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) "
        "FROM pg_roles r WHERE r.rolname = %s",
        (role,),
    )
    assert owned == [(0,)]
    assert warehouse.run("SELECT relname FROM pg_class WHERE relname LIKE %s", (f"{key}%",)) == []

    later.reset(key)
    assert local_tables(local_dsn, key) == []
    again = later.extract(key, query, "id", timeout_s=TIMEOUT)
    assert again.added == 5


def test_reset_before_anything_was_decided_passes_over_a_schema_the_user_may_not_use(
    warehouse: WarehouseDb, local_dsn: str
) -> None:
    table = users_table(warehouse, rows=1)
    warehouse.run(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
    role = read_only_role(warehouse, table)
    connector = warehouse.connector(role, bookkeeping=BookkeepingOptions(local_dsn=local_dsn))
    connector.reset("rmod_undecided")  # not "permission denied for schema"


def test_a_user_who_may_create_the_schema_decides_warehouse_bookkeeping(
    warehouse: WarehouseDb, local_dsn: str
) -> None:
    table = users_table(warehouse, rows=2)
    decided: list[str] = []
    options = BookkeepingOptions(local_dsn=local_dsn, on_decided=decided.append)
    run = warehouse.connector(bookkeeping=options).extract(
        "rmod_decide_wh", f"SELECT * FROM {table}", "id", timeout_s=TIMEOUT
    )
    assert decided == ["WAREHOUSE"] and run.added == 2
    assert local_tables(local_dsn, "rmod_decide_wh") == []


def test_extract_as_a_read_only_user_without_switchyard_s_database_is_refused(
    warehouse: WarehouseDb,
) -> None:
    table = users_table(warehouse)
    role = read_only_role(warehouse, table)
    with pytest.raises(BookkeepingUnavailable, match=SCHEMA):
        warehouse.connector(role).extract(
            "rmod_ro", f"SELECT * FROM {table}", "id", timeout_s=TIMEOUT
        )


def test_changes_in_columns_of_every_kind_are_found(warehouse: WarehouseDb, engine: Engine) -> None:
    table = warehouse.table("typed")
    warehouse.run(
        f"CREATE TABLE {table} (id text PRIMARY KEY, n numeric, f float8, b boolean, "
        "d date, ts timestamp, tz timestamptz, v varchar(20), c char(3), u uuid, j jsonb, "
        "iv interval, a int[], s smallint, big bigint)"
    )
    warehouse.run(
        f"INSERT INTO {table} VALUES ('r1', 1.0, 0.5, true, '2026-01-01', '2026-01-01 10:00', "
        "'2026-01-01 10:00+00', 'x', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
        """'{"k": 1}', '1 day', '{1,2}', 1, 2), ('r2', NULL, NULL, NULL, NULL, NULL, NULL, """
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    )
    connector, key, query = engine.connector(), "rmod_typed", f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, ["r1", "r2"])
    # Equal under the type's equality: not a change (numeric 1.0 = 1.00; same instant).
    warehouse.run(f"UPDATE {table} SET n = 1.00, tz = '2026-01-01 11:00+01' WHERE id = 'r1'")
    same = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (same.added, same.updated, same.deleted) == (0, 0, 0)
    changes = {
        "n": "2",
        "f": "0.25",
        "b": "false",
        "d": "'2026-01-02'",
        "ts": "'2026-01-01 10:00:01'",
        "tz": "'2026-01-01 10:00:00.000001+00'",
        "v": "'y'",
        "c": "'ac'",
        "u": "'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
        "j": """'{"k": 2}'""",
        "iv": "'2 days'",
        "a": "'{2,1}'",
        "s": "2",
        "big": "3",
    }
    for column, value in changes.items():
        for row_id, (before, after) in {"r1": ("", value), "r2": ("", value)}.items():
            del before
            warehouse.run(f"UPDATE {table} SET {column} = {after} WHERE id = %s", (row_id,))
            run = connector.extract(key, query, "id", timeout_s=TIMEOUT)
            assert (run.updated, column, row_id) == (1, column, row_id)
            connector.commit_snapshot(key, run.extract_id, [row_id])
    # Back to NULL is a change too.
    warehouse.run(f"UPDATE {table} SET j = NULL WHERE id = 'r1'")
    assert connector.extract(key, query, "id", timeout_s=TIMEOUT).updated == 1


def test_a_wide_model_and_one_naming_a_column_twice_still_diff(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    # More columns than json_build_object takes, and a repeated name: the whole-row path.
    wide = "SELECT 'w1' AS id, " + ", ".join(f"{i} AS c{i}" for i in range(60))
    twice = "SELECT 'd1' AS id, 1 AS x, 2 AS x"
    connector = engine.connector()
    for key, query, row in (
        ("rmod_wide", wide, {"id": "w1", **{f"c{i}": i for i in range(60)}}),
        ("rmod_twice", twice, {"id": "d1", "x": 2}),
    ):
        run = connector.extract(key, query, "id", timeout_s=TIMEOUT)
        [record] = connector.changes(key, run.extract_id, after=None, limit=9)
        assert (run.added, record.row) == (1, row)
        connector.commit_snapshot(key, run.extract_id, [record.id])
        assert connector.extract(key, query, "id", timeout_s=TIMEOUT).added == 0


def test_extract_runs_under_its_time_limit(warehouse: WarehouseDb, engine: Engine) -> None:
    with pytest.raises(QueryError, match="time limit"):
        engine.connector().extract("rmod_slow", "SELECT 1 AS id, pg_sleep(30)", "id", timeout_s=1)


def test_a_repeated_identifier_is_dropped_even_when_one_copy_is_unchanged(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = users_table(warehouse, rows=2)
    connector, key = engine.connector(), "rmod_dupe_later"
    query = f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, ["1", "2"])
    # Row 1 again, once as committed and once changed: neither copy may be sent.
    doubled = f"SELECT * FROM {table} UNION ALL SELECT id, email, 'pro' FROM {table} WHERE id = 1"
    run = connector.extract(key, doubled, "id", timeout_s=TIMEOUT)
    assert (run.extracted, run.duplicates, run.updated, run.added, run.deleted) == (3, 2, 0, 0, 0)
    assert connector.changes(key, run.extract_id, after=None, limit=9) == []


def test_columns_without_a_hash_function_still_diff(warehouse: WarehouseDb, engine: Engine) -> None:
    table = warehouse.table("docs")
    warehouse.run(f"CREATE TABLE {table} (id int PRIMARY KEY, doc json, at point)")
    warehouse.run(f"""INSERT INTO {table} VALUES (1, '{{"a": 1}}', '(1,2)'), (2, '[]', '(0,0)')""")
    connector, key, query = engine.connector(), "rmod_json", f"SELECT * FROM {table}"
    first = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert first.added == 2
    connector.commit_snapshot(key, first.extract_id, ["1", "2"])
    warehouse.run(f"""UPDATE {table} SET doc = '{{"a": 2}}' WHERE id = 1""")
    run = connector.extract(key, query, "id", timeout_s=TIMEOUT)
    assert (run.added, run.updated, run.deleted) == (0, 1, 0)
    [record] = connector.changes(key, run.extract_id, after=None, limit=9)
    assert record.row == {"id": 1, "doc": {"a": 2}, "at": "(1,2)"}


def snapshot_key_type(engine: Engine, key: str) -> str:
    """The type of the snapshot's id column, where the engine keeps it."""
    if engine.mode == "SWITCHYARD":
        dsn, schema = engine.local_dsn, LOCAL_SCHEMA
    else:
        dsn = psycopg.conninfo.make_conninfo(
            **engine.warehouse.server, dbname=engine.warehouse.dbname
        )
        schema = SCHEMA
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attname = 'id'",
            (f'"{schema}"."{key}_snapshot"',),
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_the_snapshot_is_keyed_by_the_identifier_s_own_type(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = warehouse.table("kinds")
    warehouse.run(f"CREATE TABLE {table} (n int, u uuid, v varchar(20), d date)")
    warehouse.run(
        f"INSERT INTO {table} VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x', "
        "'2026-01-01'), (2, 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'y', '2026-01-02')"
    )
    connector, query = engine.connector(), f"SELECT * FROM {table}"
    expected = {"n": "bigint", "u": "uuid", "v": "text", "d": "text"}
    for column, key_type in expected.items():
        key = f"rmod_kind_{column}"
        first = connector.extract(key, query, column, timeout_s=TIMEOUT)
        ids = [r.id for r in connector.changes(key, first.extract_id, after=None, limit=9)]
        assert connector.commit_snapshot(key, first.extract_id, ids) == 2
        assert snapshot_key_type(engine, key) == key_type
        warehouse.run(f"DELETE FROM {table} WHERE n = 2")
        run = connector.extract(key, query, column, timeout_s=TIMEOUT)
        assert (run.added, run.updated, run.deleted) == (0, 0, 1)
        [gone] = connector.changes(key, run.extract_id, after=None, limit=9)
        assert gone.id == ids[1]
        assert connector.commit_snapshot(key, run.extract_id, [gone.id]) == 1
        warehouse.run(
            f"INSERT INTO {table} VALUES (2, 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'y', "
            "'2026-01-02')"
        )


def test_a_change_of_the_identifier_s_type_keeps_what_was_delivered(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = warehouse.table("retyped")
    warehouse.run(f"CREATE TABLE {table} (id bigint, t text)")
    warehouse.run(f"INSERT INTO {table} VALUES (1, '1'), (7, '007')")
    connector, key = engine.connector(), "rmod_retyped"
    as_int = f"SELECT id, t FROM {table}"
    as_text = f"SELECT id::text AS id, t FROM {table}"
    first = connector.extract(key, as_int, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, ["1", "7"])
    assert snapshot_key_type(engine, key) == "bigint"

    # bigint -> text -> bigint: the same ids, so no addition nor deletion (the rows
    # are updates: their identifier's JSON is a string, then a number again).
    run = connector.extract(key, as_text, "id", timeout_s=TIMEOUT)
    assert snapshot_key_type(engine, key) == "text"
    assert (run.added, run.updated, run.deleted) == (0, 2, 0)
    connector.commit_snapshot(key, run.extract_id, ["1", "7"])
    run = connector.extract(key, as_int, "id", timeout_s=TIMEOUT)
    assert snapshot_key_type(engine, key) == "bigint"
    assert (run.added, run.updated, run.deleted) == (0, 2, 0)

    # Text ids that are not a number's text form ('007') keep the snapshot text.
    by_t = f"SELECT t AS id, id AS n FROM {table}"
    first = connector.extract("rmod_retyped_t", by_t, "id", timeout_s=TIMEOUT)
    connector.commit_snapshot("rmod_retyped_t", first.extract_id, ["1", "007"])
    as_number = f"SELECT t::int AS id, id AS n FROM {table}"
    run = connector.extract("rmod_retyped_t", as_number, "id", timeout_s=TIMEOUT)
    assert snapshot_key_type(engine, "rmod_retyped_t") == "text"
    records = connector.changes("rmod_retyped_t", run.extract_id, after=None, limit=9)
    assert [(r.id, r.change) for r in records] == [
        ("007", "deleted"),
        ("1", "updated"),
        ("7", "added"),
    ]


def test_a_repeated_identifier_cannot_hide_a_deletion(
    warehouse: WarehouseDb, engine: Engine
) -> None:
    table = users_table(warehouse, rows=2)
    connector, key = engine.connector(), "rmod_dupe_hides"
    first = connector.extract(key, f"SELECT * FROM {table}", "id", timeout_s=TIMEOUT)
    connector.commit_snapshot(key, first.extract_id, ["1", "2"])
    # As many rows as the snapshot, all matching it, yet 2 is gone and 1 repeats.
    doubled = f"SELECT * FROM {table} WHERE id = 1 UNION ALL SELECT * FROM {table} WHERE id = 1"
    run = connector.extract(key, doubled, "id", timeout_s=TIMEOUT)
    assert (run.extracted, run.duplicates, run.deleted) == (2, 2, 1)
    records = connector.changes(key, run.extract_id, after=None, limit=9)
    assert [(r.id, r.change) for r in records] == [("2", "deleted")]
