"""PostgreSQL as a Reverse ETL warehouse (psycopg 3).

Safety of the model's SQL (written by users who may manage Reverse ETL, run
with the source's credentials):

- it is embedded as a subquery, ``SELECT ... FROM (<query>\n) AS model``: a
  data-modifying statement can only appear at a query's top level, and a
  trailing ``--`` comment cannot swallow what follows;
- it is sent with the extended query protocol (the statement always carries
  parameters), which refuses more than one statement: ``1; DROP TABLE t`` is
  an error, not two statements;
- validation and preview run in a READ ONLY transaction; every statement runs
  under ``statement_timeout`` (SET LOCAL, so it ends with the transaction);
- our own names (schema, per-model tables, the identifier column) are quoted
  with ``psycopg.sql.Identifier`` / passed as parameters, never spliced.

Bookkeeping lives in the schema ``__switchyard_retl`` (the guide's
``__segment_reverse_etl``) or, when the user may only read, in the schema
``reverse_etl_bookkeeping`` of Switchyard's own database (``SWITCHYARD``); per
model ``<key>_snapshot`` (id, hash: what was delivered) and ``<key>_extract``
(the latest run: one row per added/updated/deleted id with the row as JSON for
added/updated, and count rows; dropped once the run is committed), plus one
``extracts`` row per model naming its latest extract. The row hash is computed
in the warehouse, column by column with each type's hash function
(``_row_hash``); md5 of the row's JSON cost 5-15x a plain copy (``to_jsonb``
alone ~12 s per million rows).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

import orjson
import psycopg
from psycopg import errors, sql

from connections.reverse_etl.warehouses.base import (
    Bookkeeping,
    BookkeepingUnavailable,
    Check,
    ConnectionReport,
    ExtractResult,
    Preview,
    QueryError,
    Record,
    StaleExtract,
    Warehouse,
    WarehouseError,
)

SCHEMA = "__switchyard_retl"
# Bookkeeping in Switchyard's own database (SWITCHYARD): the same tables.
LOCAL_SCHEMA = "reverse_etl_bookkeeping"
# json_build_object takes at most 100 arguments: name and value per column.
JSON_COLUMNS_MAX = 50
# Rows per fetch of the server-side cursor that streams out of the warehouse.
STREAM_BATCH = 10_000
CONNECT_TIMEOUT_S = 10
CHECK_TIMEOUT_S = 15
APPLICATION_NAME = "switchyard-reverse-etl"
KEY_RE = re.compile(r"^[a-z0-9_]{1,40}$")
_CHANGED = sql.SQL("change IN ('added', 'updated', 'deleted')")
# A commit this large refreshes the snapshot's statistics.
ANALYZE_AFTER = 10_000
# Hash joins and the duplicate check of a million rows stay in memory.
WORK_MEM = "256MB"


def _user_query(query: str) -> sql.SQL:
    """The model's SQL as a subquery body; ``%`` doubled because the statement is
    sent with parameters (psycopg reads placeholders in the whole text)."""
    body = query.strip().rstrip(";").strip()
    return sql.SQL(body.replace("%", "%%"))


def _timeout(seconds: float) -> sql.Composed:
    return sql.SQL("SET LOCAL statement_timeout = {}").format(
        sql.Literal(f"{max(1, int(seconds * 1000))}ms")
    )


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0][:500]


def _query_error(exc: psycopg.Error) -> QueryError:
    if isinstance(exc, errors.QueryCanceled):
        return QueryError("the model's query ran past its time limit (statement_timeout)")
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return QueryError(
            "the model's query must only read: it tried to write in a read-only transaction"
        )
    return QueryError(f"the model's query failed: {_first_line(exc)}")


class PostgresWarehouse(Warehouse):
    # -- connections ---------------------------------------------------------------
    def connect(self) -> psycopg.Connection[Any]:
        s = self.settings
        options: dict[str, Any] = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": APPLICATION_NAME,
        }
        try:
            if s.dsn:
                return psycopg.connect(s.dsn, **options)
            return psycopg.connect(
                host=s.host or None,
                port=s.port,
                dbname=s.database or None,
                user=s.username or None,
                password=s.password or None,
                sslmode=s.ssl_mode,
                **options,
            )
        except psycopg.Error as exc:
            raise WarehouseError(f"could not connect: {_first_line(exc)}") from exc

    @contextmanager
    def _read_only(self, timeout_s: float) -> Iterator[psycopg.Cursor[Any]]:
        with self.connect() as conn:
            conn.read_only = True
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(_timeout(timeout_s))
                yield cur

    # -- test connection -----------------------------------------------------------
    def test_connection(self) -> ConnectionReport:
        try:
            conn = self.connect()
        except WarehouseError as exc:
            skipped = "not checked: could not connect"
            return ConnectionReport(
                (
                    Check("connect", False, exc.message),
                    Check("read", False, skipped),
                    Check("bookkeeping", False, skipped),
                ),
                "SWITCHYARD",
            )
        with conn:
            connect = self._check_connect(conn)
            read = self._check_read(conn)
            bookkeeping = self._check_bookkeeping(conn)
        return ConnectionReport(
            (connect, read, bookkeeping), "WAREHOUSE" if bookkeeping.passed else "SWITCHYARD"
        )

    def _check_connect(self, conn: psycopg.Connection[Any]) -> Check:
        row = conn.execute(
            "SELECT current_user, current_database(), current_setting('server_version')"
        ).fetchone()
        conn.rollback()
        assert row is not None
        return Check("connect", True, f"connected as {row[0]} to {row[1]} (PostgreSQL {row[2]})")

    def _check_read(self, conn: psycopg.Connection[Any]) -> Check:
        try:
            with conn.transaction():
                conn.execute(_timeout(CHECK_TIMEOUT_S))
                rows = conn.execute(
                    """
                    SELECT n.nspname, count(*)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
                      AND n.nspname NOT IN ('pg_catalog', 'information_schema', %s)
                      AND n.nspname NOT LIKE 'pg\\_%%'
                      AND has_schema_privilege(n.oid, 'USAGE')
                      AND has_table_privilege(c.oid, 'SELECT')
                    GROUP BY n.nspname ORDER BY n.nspname
                    """,
                    (SCHEMA,),
                ).fetchall()
        except psycopg.Error as exc:
            return Check("read", False, f"could not list readable tables: {_first_line(exc)}")
        if not rows:
            return Check(
                "read",
                False,
                "the user can read no table or view: grant USAGE on the schemas and SELECT "
                "on the tables your models query",
            )
        tables = sum(count for _name, count in rows)
        shown = ", ".join(name for name, _count in rows[:10])
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        return Check("read", True, f"can read {tables} tables or views in schemas {shown}{more}")

    def _check_bookkeeping(self, conn: psycopg.Connection[Any]) -> Check:
        probe = sql.Identifier(SCHEMA, f"probe_{uuid.uuid4().hex[:12]}")
        try:
            self._ensure_schema(conn)
            with conn.transaction(force_rollback=True):
                conn.execute(sql.SQL("CREATE TABLE {} (id text)").format(probe))
        except BookkeepingUnavailable as exc:
            return Check("bookkeeping", False, exc.message)
        except psycopg.Error as exc:
            return Check(
                "bookkeeping",
                False,
                f"cannot create tables in schema {SCHEMA} ({_first_line(exc)}); grant the user "
                f"CREATE on it. Until then, bookkeeping lives in Switchyard's own database",
            )
        return Check(
            "bookkeeping", True, f"can create and write schema {SCHEMA}, where snapshots live"
        )

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        exists = conn.execute(
            "SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = %s",
            (SCHEMA,),
        ).fetchone()
        conn.rollback()
        if exists is not None:
            if not exists[0]:
                raise BookkeepingUnavailable(
                    f"schema {SCHEMA} exists but the user may not create tables in it; grant "
                    f"it CREATE on the schema. Until then, bookkeeping lives in Switchyard's "
                    f"own database"
                )
            return
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA))
                )
        except errors.UniqueViolation:
            return  # created concurrently
        except psycopg.Error as exc:
            raise BookkeepingUnavailable(
                f"cannot create schema {SCHEMA} ({_first_line(exc)}); run GRANT CREATE ON "
                f"DATABASE for the user, as the setup guide says. Until then, bookkeeping "
                f"lives in Switchyard's own database"
            ) from exc

    # -- models: validation and preview -------------------------------------------
    def columns(self, query: str, *, timeout_s: float) -> tuple[str, ...]:
        statement = sql.SQL("SELECT * FROM ({}\n) AS model LIMIT %s").format(_user_query(query))
        try:
            with self._read_only(timeout_s) as cur:
                cur.execute(statement, (0,))
                return tuple(col.name for col in cur.description or ())
        except psycopg.Error as exc:
            raise _query_error(exc) from exc

    def preview(self, query: str, identifier: str, *, limit: int, timeout_s: float) -> Preview:
        body = _user_query(query)
        shape = sql.SQL("SELECT * FROM ({}\n) AS model LIMIT %s").format(body)
        rows_sql = sql.SQL("SELECT row_to_json(model)::text FROM ({}\n) AS model LIMIT %s").format(
            body
        )
        try:
            with self._read_only(timeout_s) as cur:
                cur.execute(shape, (0,))
                columns = tuple(col.name for col in cur.description or ())
                cur.execute(rows_sql, (limit + 1,))
                fetched = [orjson.loads(text) for (text,) in cur.fetchall()]
        except psycopg.Error as exc:
            raise _query_error(exc) from exc
        rows = tuple(fetched[:limit])
        ids = [row.get(identifier) for row in rows]
        present = [str(v) for v in ids if v is not None]
        return Preview(
            columns=columns,
            rows=rows,
            identifier_unique=len(set(present)) == len(present),
            identifier_nulls=len(ids) - len(present),
            limited=len(fetched) > limit,
        )

    # -- the extract/diff engine ---------------------------------------------------
    def _warehouse_store(self) -> _Store:
        return _Store(SCHEMA, self.connect)

    def _local_store(self) -> _Store:
        dsn = self.bookkeeping.local_dsn
        if not dsn:
            raise BookkeepingUnavailable(
                f"the user may not write schema {SCHEMA} and Switchyard's own database is not "
                f"available for bookkeeping here; grant the user CREATE on the database"
            )

        def connect() -> psycopg.Connection[Any]:
            try:
                return psycopg.connect(
                    dsn, connect_timeout=CONNECT_TIMEOUT_S, application_name=APPLICATION_NAME
                )
            except psycopg.Error as exc:
                raise WarehouseError(
                    f"could not connect to Switchyard's database for bookkeeping: "
                    f"{_first_line(exc)}"
                ) from exc

        return _Store(LOCAL_SCHEMA, connect)

    def bookkeeping_mode(self) -> Bookkeeping:
        """The source's recorded mode, or (first extract) the one its user allows:
        the warehouse when it may create the bookkeeping schema, else Switchyard."""
        if self.bookkeeping.mode is not None:
            return self.bookkeeping.mode
        with self.connect() as conn:
            try:
                self._ensure_schema(conn)
                mode: Bookkeeping = "WAREHOUSE"
            except BookkeepingUnavailable:
                if not self.bookkeeping.local_dsn:
                    raise
                mode = "SWITCHYARD"
        self.bookkeeping = replace(self.bookkeeping, mode=mode)
        if self.bookkeeping.on_decided is not None:
            self.bookkeeping.on_decided(mode)
        return mode

    def _store(self) -> _Store:
        if self.bookkeeping.mode == "SWITCHYARD":
            return self._local_store()
        return self._warehouse_store()

    def _prepare(self, conn: psycopg.Connection[Any], store: _Store, key: str) -> None:
        _snapshot, _extract, extracts, _staging = store.tables(key)
        if store.schema == SCHEMA:
            self._ensure_schema(conn)
        else:
            try:
                with conn.transaction():
                    conn.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                            sql.Identifier(store.schema)
                        )
                    )
            except errors.UniqueViolation:
                pass  # created concurrently
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, extract_id text "
                        "NOT NULL, create_time timestamptz NOT NULL DEFAULT now())"
                    ).format(extracts)
                )
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, rows bigint "
                        "NOT NULL, fp bigint NOT NULL)"
                    ).format(_stats_table(store.schema))
                )
        except errors.UniqueViolation:
            pass  # another extract created them concurrently
        except psycopg.Error as exc:
            raise BookkeepingUnavailable(
                f"cannot create the bookkeeping tables in {store.schema}: {_first_line(exc)}"
            ) from exc

    def extract(self, key: str, query: str, identifier: str, *, timeout_s: float) -> ExtractResult:
        _tables(SCHEMA, key)  # refuses an unsafe key before connecting
        if self.bookkeeping_mode() == "SWITCHYARD":
            return self._extract_to_switchyard(key, query, identifier, timeout_s=timeout_s)
        return self._extract_in_warehouse(key, query, identifier, timeout_s=timeout_s)

    def _extract_in_warehouse(
        self, key: str, query: str, identifier: str, *, timeout_s: float
    ) -> ExtractResult:
        store = self._warehouse_store()
        snapshot, extract, extracts, _staging = store.tables(key)
        extract_id = uuid.uuid4().hex
        with self.connect() as conn:
            self._prepare(conn, store, key)
            try:
                with conn.transaction():
                    _tune(conn, timeout_s)
                    # Serialises extracts, commits and resets of one model.
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
                    columns = _describe(conn, query)
                    stats = _Stats(store.schema, key)
                    key_type = _snapshot_key(conn, snapshot, stats, _key_type(columns, identifier))
                    rows, row_json = _model_rows(query, identifier, columns, key_type)
                    ids = sql.SQL("SELECT (model.{})::{} AS id FROM ({}\n) AS model").format(
                        sql.Identifier(identifier), sql.SQL(key_type), _user_query(query)
                    )
                    counts = self._diff(
                        conn, snapshot, stats, extract, rows, row_json, ids, key_type
                    )
                    _name_extract(conn, extracts, key, extract_id)
            except errors.QueryCanceled as exc:
                raise _query_error(exc) from exc
            except (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction) as exc:
                raise QueryError(
                    f"the extract was refused: {_first_line(exc)} (the user needs SELECT on what "
                    f"the model reads and write access to {SCHEMA})"
                ) from exc
            except psycopg.Error as exc:
                raise _query_error(exc) from exc
        return ExtractResult(extract_id=extract_id, **counts)

    def _extract_to_switchyard(
        self, key: str, query: str, identifier: str, *, timeout_s: float
    ) -> ExtractResult:
        """For a user who may only read: the ``(identifier, row hash)`` pairs, hashed in
        the warehouse, are streamed (server-side cursor) into a staging table of
        Switchyard's database and diffed there like in the warehouse; then the JSON
        of the added and updated rows only is fetched, in the same read-only
        REPEATABLE READ transaction, so the rows are those that were hashed."""
        store = self._local_store()
        snapshot, extract, extracts, staging = store.tables(key)
        extract_id = uuid.uuid4().hex
        ident = sql.Identifier(identifier)
        with store.connect() as local, self.connect() as wh:
            self._prepare(local, store, key)
            wh.read_only = True
            wh.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with wh.transaction(), local.transaction():
                    wh.execute(_timeout(timeout_s))
                    _tune(local, timeout_s)
                    local.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
                    columns = _describe(wh, query)
                    row_hash = _row_hash(columns)
                    stats = _Stats(store.schema, key)
                    key_type = _snapshot_key(local, snapshot, stats, _key_type(columns, identifier))
                    cast = sql.SQL(key_type)
                    local.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging))
                    local.execute(
                        sql.SQL("CREATE UNLOGGED TABLE {} (id {}, hash bigint)").format(
                            staging, cast
                        )
                    )
                    pairs = sql.SQL(
                        "SELECT (model.{ident})::{cast}, {row_hash} FROM ({query}\n) AS model "
                        "LIMIT %s"
                    ).format(ident=ident, cast=cast, row_hash=row_hash, query=_user_query(query))
                    _stream(wh, pairs, (None,), local, staging, ("id", "hash"))
                    local.execute(sql.SQL("ANALYZE {}").format(staging))
                    rows = sql.SQL("SELECT id, hash FROM {}").format(staging)
                    ids = sql.SQL("SELECT id FROM {}").format(staging)
                    counts = self._diff(
                        local,
                        snapshot,
                        stats,
                        extract,
                        rows,
                        sql.SQL("NULL::json"),
                        ids,
                        key_type,
                    )
                    self._fetch_rows(wh, local, extract, staging, query, identifier)
                    local.execute(sql.SQL("DROP TABLE {}").format(staging))
                    _name_extract(local, extracts, key, extract_id)
            except errors.QueryCanceled as exc:
                raise _query_error(exc) from exc
            except psycopg.Error as exc:
                raise _query_error(exc) from exc
        return ExtractResult(extract_id=extract_id, **counts)

    def _fetch_rows(
        self,
        wh: psycopg.Connection[Any],
        local: psycopg.Connection[Any],
        extract: sql.Identifier,
        staging: sql.Identifier,
        query: str,
        identifier: str,
    ) -> None:
        """The JSON of the extract's added and updated rows, from the warehouse."""
        changed = [
            i
            for (i,) in local.execute(
                sql.SQL("SELECT id FROM {} WHERE change IN ('added', 'updated')").format(extract)
            )
        ]
        if not changed:
            return
        local.execute(sql.SQL("TRUNCATE {}").format(staging))
        local.execute(sql.SQL("ALTER TABLE {} ADD COLUMN row text").format(staging))
        rows = sql.SQL(
            "SELECT h.id, NULL::bigint, row_to_json(h.m)::text FROM (SELECT (model.{ident})::text "
            "AS id, model AS m FROM ({query}\n) AS model) AS h JOIN unnest(%s::text[]) AS c(id) "
            "ON c.id = h.id"
        ).format(ident=sql.Identifier(identifier), query=_user_query(query))
        _stream(wh, rows, (changed,), local, staging, ("id", "hash", "row"))
        local.execute(
            sql.SQL(
                "UPDATE {extract} AS e SET row = s.row::json FROM {staging} AS s "
                "WHERE e.id = s.id::text AND e.change IN ('added', 'updated')"
            ).format(extract=extract, staging=staging)
        )

    def _diff(
        self,
        conn: psycopg.Connection[Any],
        snapshot: sql.Identifier,
        stats: _Stats,
        extract: sql.Identifier,
        rows: sql.Composable,
        row_json: sql.Composable,
        ids: sql.Composable,
        key_type: str,
    ) -> dict[str, int]:
        """One pass over ``rows`` (id in the snapshot's key type, hash[, columns])
        left-joined with the snapshot by identifier, into a new extract table: one row
        per added and updated (with its JSON) identifier, plus one count row per other
        outcome (``matched``, ``null_id``: id NULL), so no second pass counts. A left
        join (unlike a full join, in PostgreSQL 15) may run as a parallel hash join;
        the fence in ``d`` has the workers compute each row's outcome and JSON, so
        only narrow rows reach the grouping (~10% faster than computing them there).
        Grouping also collapses a repeated identifier among the changes (``n`` > 1);
        by a small integer for the outcome (~15% faster than grouping by its name).
        Deletions: when the matched rows are as many as the snapshot's and their ids'
        XOR of hashes (``fp``) is the snapshot's, every snapshot row was matched once
        (a miss has a ~2^-64 chance); only otherwise is the snapshot anti-joined
        with the model's ``ids`` (a second pass, when something was deleted or an
        identifier repeats)."""
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(extract))
        (empty,) = conn.execute(
            sql.SQL("SELECT NOT EXISTS (SELECT FROM {})").format(snapshot)
        ).fetchone() or (True,)
        if empty:
            # First run (or after a reset): every row is added; no join, no grouping
            # (a million groups cost more than the rows themselves).
            stats.store(conn, 0, 0)
            conn.execute(
                sql.SQL(
                    """
                    CREATE UNLOGGED TABLE {extract} AS
                    SELECT h.id::text AS id, h.hash,
                           CASE WHEN h.id IS NULL THEN 'null_id' ELSE 'added' END AS change,
                           CASE WHEN h.id IS NOT NULL THEN {row_json} END AS row,
                           1::bigint AS n, NULL::bigint AS fp, false AS committed
                    FROM ({rows}) AS h
                    """
                ).format(extract=extract, rows=rows, row_json=row_json)
            )
        else:
            for setting, value in _PARALLEL:
                conn.execute(sql.SQL("SET LOCAL {} = {}").format(sql.SQL(setting), value))
            conn.execute(
                sql.SQL(
                    """
                    CREATE UNLOGGED TABLE {extract} AS
                    SELECT k AS id, max(hash) AS hash,
                           (ARRAY['null_id', 'added', 'updated', 'matched'])[change] AS change,
                           min(row)::json AS row, count(*) AS n, bit_xor(fp) AS fp,
                           false AS committed
                    FROM (
                        SELECT CASE WHEN change IN (2, 3) THEN id::text END AS k,
                               hash, change, row,
                               CASE WHEN change IN (3, 4) THEN {sid_hash} END AS fp
                        FROM (
                            SELECT h.id, h.hash, s.id AS sid,
                                   CASE WHEN h.id IS NULL THEN 1
                                        WHEN s.id IS NULL THEN 2
                                        WHEN s.hash <> h.hash THEN 3
                                        ELSE 4 END AS change, {fence} AS _fence,
                                   CASE WHEN h.id IS NOT NULL AND s.hash IS DISTINCT FROM h.hash
                                        THEN ({row_json})::text END AS row
                            FROM ({rows}) AS h LEFT JOIN {snapshot} AS s ON s.id = h.id
                        ) AS d
                    ) AS g
                    GROUP BY k, change
                    """
                ).format(
                    extract=extract,
                    rows=rows,
                    row_json=row_json,
                    snapshot=snapshot,
                    sid_hash=_id_hash(key_type, sql.SQL("sid")),
                    fence=_FENCE,
                )
            )
        found = conn.execute(
            sql.SQL(
                """
                SELECT coalesce(sum(n), 0),
                       coalesce(sum(n) FILTER (WHERE change = 'null_id'), 0),
                       coalesce(sum(n) FILTER (WHERE change IN ('matched', 'updated')), 0),
                       coalesce(bit_xor(fp) FILTER (WHERE change IN ('matched', 'updated')), 0),
                       coalesce(bool_or(n > 1 AND id IS NOT NULL), false)
                FROM {extract}
                """
            ).format(extract=extract)
        ).fetchone()
        assert found is not None
        extracted, null_ids, matched, matched_fp, repeated = found
        committed, committed_fp = stats.read(conn, snapshot, key_type)
        deleted = 0
        if (matched, matched_fp) != (committed, committed_fp):
            deleted = conn.execute(
                sql.SQL(
                    """
                    INSERT INTO {extract} (id, hash, change, row, n, committed)
                    SELECT s.id::text, NULL, 'deleted', NULL, 1, false FROM {snapshot} AS s
                    WHERE NOT EXISTS (SELECT FROM ({ids}) AS i WHERE i.id = s.id)
                    """
                ).format(extract=extract, snapshot=snapshot, ids=ids)
            ).rowcount
        # An identifier repeats: a group of changes holds several rows, a snapshot row
        # matched more than once, or (first run) the unique index refuses it.
        index = sql.SQL("CREATE UNIQUE INDEX ON {} (id) WHERE {}").format(extract, _CHANGED)
        indexed = False
        if not repeated and matched <= committed - deleted:
            try:
                with conn.transaction():
                    conn.execute(index)
                indexed = True
            except errors.UniqueViolation:
                pass
        duplicates = 0
        if not indexed:
            duplicates = self._drop_duplicates(conn, extract, ids)
            conn.execute(index)
        by_change = dict(
            conn.execute(
                sql.SQL("SELECT change, count(*) FROM {} WHERE {} GROUP BY change").format(
                    extract, _CHANGED
                )
            ).fetchall()
        )
        return {
            "extracted": int(extracted),
            "added": int(by_change.get("added", 0)),
            "updated": int(by_change.get("updated", 0)),
            "deleted": int(by_change.get("deleted", 0)),
            "duplicates": duplicates,
            "null_ids": int(null_ids),
        }

    def _drop_duplicates(
        self, conn: psycopg.Connection[Any], extract: sql.Identifier, ids: sql.Composable
    ) -> int:
        """Only for a model whose identifier repeats (rare: the preview warns of it):
        every row of a repeated identifier is dropped (ErrRecordDuplicate). Reads the
        identifiers again (``ids``) to find them; returns how many rows were dropped."""
        row = conn.execute(
            sql.SQL(
                """
                WITH repeated AS (
                    INSERT INTO {extract} (id, hash, change, n)
                    SELECT id::text, count(*), 'duplicate', count(*)
                    FROM ({ids}) AS ids
                    WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1
                    RETURNING id, n
                ),
                gone AS (
                    DELETE FROM {extract} AS e USING repeated AS r
                    WHERE e.id = r.id AND e.change IN ('added', 'updated')
                )
                SELECT coalesce(sum(n), 0) FROM repeated
                """
            ).format(extract=extract, ids=ids)
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _check_current(
        self, conn: psycopg.Connection[Any], store: _Store, key: str, extract_id: str
    ) -> None:
        _snapshot, _extract, extracts, _staging = store.tables(key)
        try:
            row = conn.execute(
                sql.SQL("SELECT extract_id FROM {} WHERE key = %s").format(extracts), (key,)
            ).fetchone()
        except errors.UndefinedTable:
            row = None
        if row is None or row[0] != extract_id:
            raise StaleExtract(
                "this extract is no longer the model's latest (a newer extract or a reset "
                "replaced it)"
            )

    def changes(self, key: str, extract_id: str, *, after: str | None, limit: int) -> list[Record]:
        store = self._store()
        _snapshot, extract, _extracts, _staging = store.tables(key)
        with store.connect() as conn, conn.transaction():
            self._check_current(conn, store, key, extract_id)
            rows = conn.execute(
                sql.SQL(
                    "SELECT id, change, row::text FROM {} WHERE {} AND NOT committed "
                    "AND id > %s ORDER BY id LIMIT %s"
                ).format(extract, _CHANGED),
                (after or "", limit),
            ).fetchall()
        return [
            Record(id=i, change=change, row=orjson.loads(text) if text is not None else None)
            for i, change, text in rows
        ]

    def commit_snapshot(self, key: str, extract_id: str, ids: list[str]) -> int:
        store = self._store()
        snapshot, extract, _extracts, _staging = store.tables(key)
        with store.connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
            self._check_current(conn, store, key, extract_id)
            key_type = sql.SQL(_snapshot_type(conn, snapshot) or "text")
            row = conn.execute(
                sql.SQL(
                    """
                    WITH d AS (
                        UPDATE {extract} SET committed = true
                        WHERE {changed} AND NOT committed AND id = ANY(%s)
                        RETURNING id, hash, change
                    ),
                    gone AS (
                        DELETE FROM {snapshot} AS s USING d
                        WHERE d.change = 'deleted' AND s.id = d.id::{key_type}
                        RETURNING s.id
                    ),
                    kept AS (
                        INSERT INTO {snapshot} (id, hash)
                        SELECT id::{key_type}, hash FROM d WHERE change <> 'deleted'
                        ON CONFLICT (id) DO UPDATE SET hash = EXCLUDED.hash
                        RETURNING id, xmax = 0 AS inserted
                    ),
                    moved AS (
                        SELECT id FROM gone
                        UNION ALL SELECT id FROM kept WHERE inserted
                    )
                    SELECT (SELECT count(*) FROM d),
                           (SELECT count(*) FROM kept WHERE inserted)
                               - (SELECT count(*) FROM gone),
                           (SELECT coalesce(bit_xor({id_hash}), 0) FROM moved)
                    """
                ).format(
                    extract=extract,
                    snapshot=snapshot,
                    changed=_CHANGED,
                    key_type=key_type,
                    id_hash=_id_hash(key_type.as_string(conn), sql.SQL("id")),
                ),
                (ids,),
            ).fetchone()
            assert row is not None
            _Stats(store.schema, key).move(conn, int(row[1]), int(row[2]))
        committed = int(row[0])
        if committed >= ANALYZE_AFTER:
            # Fresh statistics, so the next diff plans its join on the snapshot's size.
            with store.connect() as conn:
                conn.autocommit = True
                conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(snapshot))
        return committed

    def discard_extract(self, key: str, extract_id: str) -> None:
        """Dropping a million-row extract costs ~0.25 s at commit (unlinking its
        files): paid here, when the run is over, rather than by the next extract."""
        store = self._store()
        _snapshot, extract, _extracts, _staging = store.tables(key)
        try:
            with store.connect() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
                try:
                    self._check_current(conn, store, key, extract_id)
                except StaleExtract:
                    return  # a newer extract (or a reset) replaced it: not ours to drop
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(extract))
        except psycopg.Error as exc:
            raise WarehouseError(f"could not drop the extract: {_first_line(exc)}") from exc

    def reset(self, key: str) -> None:
        _tables(SCHEMA, key)
        mode = self.bookkeeping.mode
        if mode == "WAREHOUSE":
            self._reset_in(self._warehouse_store(), key)
        elif mode is None:
            # A user who may not use the schema has nothing of ours there.
            with suppress(errors.InsufficientPrivilege):
                self._reset_in(self._warehouse_store(), key)
        if mode == "SWITCHYARD" or (mode is None and self.bookkeeping.local_dsn):
            self._reset_in(self._local_store(), key)

    @staticmethod
    def _reset_in(store: _Store, key: str) -> None:
        snapshot, extract, extracts, staging = store.tables(key)
        with store.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (store.schema,))
            if exists.fetchone() is None:
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
                conn.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}, {}, {}").format(snapshot, extract, staging)
                )
                try:
                    with conn.transaction():
                        conn.execute(
                            sql.SQL("DELETE FROM {} WHERE key = %s").format(extracts), (key,)
                        )
                except errors.UndefinedTable:
                    pass
                _Stats(store.schema, key).forget(conn)


@dataclass(frozen=True)
class _Store:
    """Where a model's bookkeeping tables live: the warehouse or Switchyard's database."""

    schema: str
    connect: Callable[[], psycopg.Connection[Any]]

    def tables(
        self, key: str
    ) -> tuple[sql.Identifier, sql.Identifier, sql.Identifier, sql.Identifier]:
        return _tables(self.schema, key)


def _tables(
    schema: str, key: str
) -> tuple[sql.Identifier, sql.Identifier, sql.Identifier, sql.Identifier]:
    """Snapshot, extract, the extracts register, and (Switchyard's database) staging."""
    if not KEY_RE.match(key):
        raise ValueError(f"bad bookkeeping key {key!r}")
    return (
        sql.Identifier(schema, f"{key}_snapshot"),
        sql.Identifier(schema, f"{key}_extract"),
        sql.Identifier(schema, "extracts"),
        sql.Identifier(schema, f"{key}_staging"),
    )


def _tune(conn: psycopg.Connection[Any], timeout_s: float) -> None:
    conn.execute(_timeout(timeout_s))
    conn.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(WORK_MEM)))
    conn.execute("SET LOCAL jit = off")


def _name_extract(
    conn: psycopg.Connection[Any], extracts: sql.Identifier, key: str, extract_id: str
) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (key, extract_id) VALUES (%s, %s) ON CONFLICT (key) "
            "DO UPDATE SET extract_id = EXCLUDED.extract_id, create_time = now()"
        ).format(extracts),
        (key, extract_id),
    )


def _describe(conn: psycopg.Connection[Any], query: str) -> list[tuple[str, int]]:
    """The model's columns and their types' OIDs (domains arrive as their base type)."""
    cur = conn.execute(
        sql.SQL("SELECT * FROM ({}\n) AS model LIMIT %s").format(_user_query(query)), (0,)
    )
    return [(col.name, col.type_code) for col in cur.description or ()]


def _model_rows(
    query: str, identifier: str, columns: list[tuple[str, int]], key_type: str
) -> tuple[sql.Composed, sql.Composable]:
    """The model's rows for the diff, ``h``: ``id``, ``hash`` and the columns (as
    ``c0``, ``c1``, ...; the JSON of a changed row is built from them), so no
    composite value is formed per row. ``_FENCE`` keeps the planner from pulling
    ``h`` up into the diff, which would copy the row hash into every expression
    that reads it (the outcome, the grouping keys, the aggregates): evaluated
    once per row in the scan instead of about five times, the diff costs ~25%
    less CPU. Columns named twice, or more than
    ``json_build_object`` takes: the whole row ``m`` and ``row_to_json``."""
    names = [name for name, _oid in columns]
    head = sql.SQL("SELECT (model.{})::{} AS id, {} AS hash, {} AS _fence").format(
        sql.Identifier(identifier), sql.SQL(key_type), _row_hash(columns), _FENCE
    )
    tail = sql.SQL(" FROM ({}\n) AS model").format(_user_query(query))
    if len(set(names)) != len(names) or len(names) > JSON_COLUMNS_MAX:
        return head + sql.SQL(", model AS m") + tail, sql.SQL("row_to_json(h.m)")
    selected = sql.SQL("").join(
        sql.SQL(", model.{} AS {}").format(sql.Identifier(name), sql.Identifier(f"c{i}"))
        for i, name in enumerate(names)
    )
    pairs = sql.SQL(", ").join(
        sql.SQL("{}, h.{}").format(sql.Literal(name), sql.Identifier(f"c{i}"))
        for i, name in enumerate(names)
    )
    return head + selected + tail, sql.SQL("json_build_object({})").format(pairs)


def _key_type(columns: list[tuple[str, int]], identifier: str) -> str:
    """The snapshot's key type for the model's identifier: integers as bigint, uuid
    as uuid (hashed and compared natively: a text key cost ~30% more in the join),
    any other type as its text form."""
    oid = next((oid for name, oid in columns if name == identifier), None)
    return _KEY_TYPES.get(oid, "text") if oid is not None else "text"


def _snapshot_type(conn: psycopg.Connection[Any], snapshot: sql.Identifier) -> str | None:
    """The snapshot's key type (its id column's), or None when it does not exist."""
    row = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
        "to_regclass(%s) AND attname = 'id' AND NOT attisdropped",
        (snapshot.as_string(conn),),
    ).fetchone()
    return str(row[0]) if row is not None else None


def _snapshot_key(
    conn: psycopg.Connection[Any], snapshot: sql.Identifier, stats: _Stats, wanted: str
) -> str:
    """Creates the snapshot keyed by ``wanted`` or, when the model's identifier type
    changed since, migrates it: to text always (the ids delivered were their text
    forms); from text to ``wanted`` only when every id is the text form of such a
    value (``007`` is not bigint 7's), else the snapshot stays text and the model's
    identifier is cast to text. Returns the key type to cast the identifier to."""
    current = _snapshot_type(conn, snapshot)
    if current != wanted:
        stats.forget(conn)  # new, or its ids' hashes change with their type
    if current is None:
        conn.execute(
            sql.SQL("CREATE TABLE {} (id {} PRIMARY KEY, hash bigint NOT NULL)").format(
                snapshot, sql.SQL(wanted)
            )
        )
        return wanted
    if current == wanted:
        return wanted
    if current != "text":
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN id TYPE text USING id::text").format(snapshot)
        )
    if wanted == "text":
        return "text"
    key = sql.SQL(wanted)
    try:
        with conn.transaction():
            (exact,) = conn.execute(
                sql.SQL("SELECT NOT EXISTS (SELECT FROM {} WHERE id::{}::text <> id)").format(
                    snapshot, key
                )
            ).fetchone() or (False,)
            if not exact:
                return "text"
            conn.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN id TYPE {} USING id::{}").format(
                    snapshot, key, key
                )
            )
    except errors.DataException:
        return "text"  # an id that is no such value
    return wanted


@dataclass(frozen=True)
class _Stats:
    """A snapshot's row count and the XOR of its ids' hashes (``fp``), kept in the
    ``snapshots`` table by each commit: the diff compares them with the matched
    rows' to know that nothing was deleted, without reading the whole snapshot
    again (~0.15 s per million rows)."""

    schema: str
    key: str

    @property
    def table(self) -> sql.Identifier:
        return _stats_table(self.schema)

    def read(
        self, conn: psycopg.Connection[Any], snapshot: sql.Identifier, key_type: str
    ) -> tuple[int, int]:
        """The kept (rows, fp), or counted (an older snapshot, or one whose key type
        changed) and kept from now on."""
        row = conn.execute(
            sql.SQL("SELECT rows, fp FROM {} WHERE key = %s").format(self.table), (self.key,)
        ).fetchone()
        if row is not None:
            return int(row[0]), int(row[1])
        counted = conn.execute(
            sql.SQL("SELECT count(*), coalesce(bit_xor({}), 0) FROM {}").format(
                _id_hash(key_type, sql.SQL("id")), snapshot
            )
        ).fetchone()
        assert counted is not None
        self.store(conn, int(counted[0]), int(counted[1]))
        return int(counted[0]), int(counted[1])

    def store(self, conn: psycopg.Connection[Any], rows: int, fp: int) -> None:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (key, rows, fp) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET rows = EXCLUDED.rows, fp = EXCLUDED.fp"
            ).format(self.table),
            (self.key, rows, fp),
        )

    def move(self, conn: psycopg.Connection[Any], rows: int, fp: int) -> None:
        """Adds a commit's rows and fingerprint (ids in or out: XOR is its own
        inverse); nothing kept (a snapshot from before them): the next diff counts."""
        self._quietly(
            conn,
            sql.SQL("UPDATE {} SET rows = rows + %s, fp = fp # %s WHERE key = %s").format(
                self.table
            ),
            (rows, fp, self.key),
        )

    def forget(self, conn: psycopg.Connection[Any]) -> None:
        self._quietly(
            conn, sql.SQL("DELETE FROM {} WHERE key = %s").format(self.table), (self.key,)
        )

    @staticmethod
    def _quietly(
        conn: psycopg.Connection[Any], statement: sql.Composed, params: tuple[Any, ...]
    ) -> None:
        try:
            with conn.transaction():
                conn.execute(statement, params)
        except errors.UndefinedTable:
            pass  # bookkeeping from before the table: nothing kept


def _stats_table(schema: str) -> sql.Identifier:
    return sql.Identifier(schema, "snapshots")


def _id_hash(key_type: str, value: sql.Composable) -> sql.Composable:
    return sql.SQL(_KEY_HASH[key_type]).format(value)


def _row_hash(columns: list[tuple[str, int]]) -> sql.Composable:
    """A 64-bit hash of the row from each column's hash by its type (xor, seeded by
    position, a constant for NULL): about a third of ``hash_record_extended``'s cost,
    which forms and takes apart a composite value per row. Types without a listed
    hash function hash their text form. Columns named twice: the row's text form."""
    names = [name for name, _oid in columns]
    if len(set(names)) != len(names):
        return sql.SQL("hashtextextended(model::text, 0)")
    parts = []
    for seed, (name, oid) in enumerate(columns):
        col = sql.SQL("model.{}").format(sql.Identifier(name))
        template = _TYPE_HASH.get(oid, "hashtextextended({col}::text, {seed})")
        value = sql.SQL(template).format(col=col, seed=sql.Literal(seed))
        parts.append(sql.SQL("coalesce({}, {})").format(value, sql.Literal(_NULL_HASH + seed)))
    return sql.SQL(" # ").join(parts) if parts else sql.SQL("0::bigint")


def _stream(
    source: psycopg.Connection[Any],
    statement: sql.Composed,
    params: tuple[Any, ...],
    target: psycopg.Connection[Any],
    table: sql.Identifier,
    columns: tuple[str, ...],
) -> None:
    """Rows of ``statement`` (a server-side cursor: never all in memory) copied into
    ``table`` of the other database."""
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
        table, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with source.cursor(name=f"retl_{uuid.uuid4().hex[:12]}") as src:
        src.itersize = STREAM_BATCH
        src.execute(statement, params)
        with target.cursor() as dst, dst.copy(copy) as out:
            while batch := src.fetchmany(STREAM_BATCH):
                for row in batch:
                    out.write_row(row)


# The hash function of common column types (PostgreSQL's default hash opclass);
# timestamptz as UTC time (no daylight saving: one instant, one value).
_TYPE_HASH: dict[int, str] = {
    16: "hashint4extended({col}::int, {seed})",  # bool
    20: "hashint8extended({col}, {seed})",  # int8
    21: "hashint2extended({col}, {seed})",  # int2
    23: "hashint4extended({col}, {seed})",  # int4
    25: "hashtextextended({col}, {seed})",  # text
    700: "hashfloat4extended({col}, {seed})",  # float4
    701: "hashfloat8extended({col}, {seed})",  # float8
    1042: "hashbpcharextended({col}, {seed})",  # bpchar
    1043: "hashtextextended({col}::text, {seed})",  # varchar
    1083: "time_hash_extended({col}, {seed})",  # time
    1114: "timestamp_hash_extended({col}, {seed})",  # timestamp
    1184: "timestamp_hash_extended({col} AT TIME ZONE 'UTC', {seed})",  # timestamptz
    1186: "interval_hash_extended({col}, {seed})",  # interval
    1700: "hash_numeric_extended({col}, {seed})",  # numeric
    2950: "uuid_hash_extended({col}, {seed})",  # uuid
    3802: "jsonb_hash_extended({col}, {seed})",  # jsonb
}
# The snapshot's key type per identifier type (others: text), and its hash.
_KEY_TYPES: dict[int, str] = {20: "bigint", 21: "bigint", 23: "bigint", 2950: "uuid"}
_KEY_HASH: dict[str, str] = {
    "bigint": "hashint8extended({}, 0)",
    "uuid": "uuid_hash_extended({}, 0)",
    "text": "hashtextextended({}, 0)",
}
# The diff's join and grouping may run in parallel (on a parallel-safe model query).
_PARALLEL: tuple[tuple[str, sql.Literal], ...] = (
    ("max_parallel_workers_per_gather", sql.Literal(2)),
    ("parallel_setup_cost", sql.Literal(100)),
    # Cheap enough for a parallel join, dear enough that the workers also group
    # their rows (a partial aggregate) rather than pass every row to the leader.
    ("parallel_tuple_cost", sql.Literal(0.05)),
)
# A volatile, parallel-safe output column: a subquery whose output holds a volatile
# function is not pulled up into its parent, so its other outputs are computed once
# per row, below the join, and a parallel scan may still compute them.
_FENCE = sql.SQL("clock_timestamp()")
_NULL_HASH = -6_917_529_027_641_081_856  # a NULL column's hash (plus its position)
