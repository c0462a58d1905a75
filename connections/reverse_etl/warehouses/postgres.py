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
``__segment_reverse_etl``); per model ``<key>_snapshot`` (id, hash: what was
delivered) and ``<key>_extract`` (the latest run: id, hash, change, the row
as JSON for changed rows only), plus one ``extracts`` row per model naming its
latest extract. The row hash is ``hash_record_extended(row, 0)`` (a 64-bit hash of
the values by their types' hash functions; the row's text form for types without
one): see ``ROW_HASH`` for why not md5 of the row's JSON.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from psycopg import errors, sql

from connections.reverse_etl.warehouses.base import (
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
CONNECT_TIMEOUT_S = 10
CHECK_TIMEOUT_S = 15
APPLICATION_NAME = "switchyard-reverse-etl"
KEY_RE = re.compile(r"^[a-z0-9_]{1,40}$")
_CHANGED = sql.SQL("change IN ('added', 'updated', 'deleted')")
# The row hash: a 64-bit hash of the row's values by their types' hash functions,
# or of its text form for types without one. md5 of the row's JSON was the first
# choice; it cost 5-15x a plain copy of the rows (to_jsonb alone ~12 s per million
# rows here), where the bar for the whole diff is 2x.
ROW_HASH = sql.SQL("hash_record_extended(model, 0)")
ROW_TEXT_HASH = sql.SQL("hashtextextended(model::text, 0)")
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
    @staticmethod
    def _tables(key: str) -> tuple[sql.Identifier, sql.Identifier, sql.Identifier]:
        if not KEY_RE.match(key):
            raise ValueError(f"bad bookkeeping key {key!r}")
        return (
            sql.Identifier(SCHEMA, f"{key}_snapshot"),
            sql.Identifier(SCHEMA, f"{key}_extract"),
            sql.Identifier(SCHEMA, "extracts"),
        )

    def _prepare(self, conn: psycopg.Connection[Any], key: str) -> None:
        snapshot, _extract, extracts = self._tables(key)
        self._ensure_schema(conn)
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
                        "CREATE TABLE IF NOT EXISTS {} (id text PRIMARY KEY, hash bigint NOT NULL)"
                    ).format(snapshot)
                )
        except errors.UniqueViolation:
            pass  # another extract created them concurrently
        except psycopg.Error as exc:
            raise BookkeepingUnavailable(
                f"cannot create the bookkeeping tables in {SCHEMA}: {_first_line(exc)}"
            ) from exc

    def extract(self, key: str, query: str, identifier: str, *, timeout_s: float) -> ExtractResult:
        snapshot, extract, extracts = self._tables(key)
        extract_id = uuid.uuid4().hex
        with self.connect() as conn:
            self._prepare(conn, key)
            try:
                with conn.transaction():
                    conn.execute(_timeout(timeout_s))
                    conn.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(WORK_MEM)))
                    # Serialises extracts, commits and resets of one model.
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(extract))
                    conn.execute(
                        sql.SQL(
                            "CREATE UNLOGGED TABLE {} (id text, hash bigint, change text, "
                            "row json, committed boolean NOT NULL DEFAULT false)"
                        ).format(extract)
                    )
                    counts = self._fill(conn, snapshot, extract, query, identifier)
                    conn.execute(
                        sql.SQL(
                            "INSERT INTO {} (key, extract_id) VALUES (%s, %s) ON CONFLICT (key) "
                            "DO UPDATE SET extract_id = EXCLUDED.extract_id, create_time = now()"
                        ).format(extracts),
                        (key, extract_id),
                    )
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

    def _fill(
        self,
        conn: psycopg.Connection[Any],
        snapshot: sql.Identifier,
        extract: sql.Identifier,
        query: str,
        identifier: str,
    ) -> dict[str, int]:
        try:
            with conn.transaction():  # a savepoint: the fallback reruns it
                extracted, null_ids, repeats = self._diff(
                    conn, snapshot, extract, query, identifier, ROW_HASH
                )
        except errors.UndefinedFunction:
            # A column type without an extended hash function (json, xml, point, ...):
            # hash the row's text form instead.
            extracted, null_ids, repeats = self._diff(
                conn, snapshot, extract, query, identifier, ROW_TEXT_HASH
            )
        index = sql.SQL("CREATE UNIQUE INDEX ON {} (id) WHERE {}").format(extract, _CHANGED)
        if not repeats:
            try:
                with conn.transaction():
                    conn.execute(index)
            except errors.UniqueViolation:
                repeats = True  # an identifier repeats among the changed rows
        duplicates = 0
        if repeats:
            duplicates = self._drop_duplicates(conn, extract, query, identifier)
            conn.execute(index)
        found = dict(
            conn.execute(
                sql.SQL("SELECT change, count(*) FROM {} GROUP BY change").format(extract)
            ).fetchall()
        )
        return {
            "extracted": extracted,
            "added": int(found.get("added", 0)),
            "updated": int(found.get("updated", 0)),
            "deleted": int(found.get("deleted", 0)),
            "duplicates": duplicates,
            "null_ids": null_ids,
        }

    def _diff(
        self,
        conn: psycopg.Connection[Any],
        snapshot: sql.Identifier,
        extract: sql.Identifier,
        query: str,
        identifier: str,
        row_hash: sql.SQL,
    ) -> tuple[int, int, bool]:
        """One pass over the model, full-joined with the snapshot by identifier: each
        changed row (with its JSON) and each snapshot row missing from the result
        (deleted) is stored. Returns the rows extracted, those with a null
        identifier, and whether some identifier of the snapshot matched more than
        one row (more matches than snapshot rows not deleted)."""
        row = conn.execute(
            sql.SQL(
                """
                WITH h AS (
                    SELECT (model.{ident})::text AS id, {row_hash} AS hash, model AS m
                    FROM ({query}
                    ) AS model
                ),
                d AS MATERIALIZED (
                    SELECT coalesce(h.id, s.id) AS id, h.hash,
                           s.id IS NOT NULL AND h.hash IS NOT NULL AS matched,
                           CASE WHEN h.hash IS NULL THEN 'deleted'
                                WHEN h.id IS NULL THEN 'null_id'
                                WHEN s.id IS NULL THEN 'added'
                                WHEN s.hash <> h.hash THEN 'updated' END AS change,
                           CASE WHEN h.id IS NOT NULL AND s.hash IS DISTINCT FROM h.hash
                                THEN row_to_json(h.m) END AS row
                    FROM h FULL JOIN {snapshot} AS s ON s.id = h.id
                ),
                changed AS (
                    INSERT INTO {extract} (id, hash, change, row)
                    SELECT id, hash, change, row FROM d
                    WHERE change IN ('added', 'updated', 'deleted')
                )
                SELECT count(*) FILTER (WHERE hash IS NOT NULL),
                       count(*) FILTER (WHERE change = 'null_id'),
                       count(*) FILTER (WHERE matched),
                       count(*) FILTER (WHERE change = 'deleted'),
                       (SELECT count(*) FROM {snapshot})
                FROM d
                """
            ).format(
                ident=sql.Identifier(identifier),
                row_hash=row_hash,
                query=_user_query(query),
                snapshot=snapshot,
                extract=extract,
            )
        ).fetchone()
        assert row is not None
        extracted, null_ids, matched, deleted, committed = (int(v) for v in row)
        return extracted, null_ids, matched > committed - deleted

    def _drop_duplicates(
        self, conn: psycopg.Connection[Any], extract: sql.Identifier, query: str, identifier: str
    ) -> int:
        """Only for a model whose identifier repeats (rare: the preview warns of it):
        every row of a repeated identifier is dropped (ErrRecordDuplicate). Runs the
        query again to find them; returns how many rows were dropped."""
        row = conn.execute(
            sql.SQL(
                """
                WITH repeated AS (
                    INSERT INTO {extract} (id, hash, change)
                    SELECT id, count(*), 'duplicate'
                    FROM (SELECT (model.{ident})::text AS id FROM ({query}
                          ) AS model) AS ids
                    WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1
                    RETURNING id, hash
                ),
                gone AS (
                    DELETE FROM {extract} AS e USING repeated AS r
                    WHERE e.id = r.id AND e.change IN ('added', 'updated')
                )
                SELECT coalesce(sum(hash), 0) FROM repeated
                """
            ).format(extract=extract, ident=sql.Identifier(identifier), query=_user_query(query))
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _check_current(self, conn: psycopg.Connection[Any], key: str, extract_id: str) -> None:
        _snapshot, _extract, extracts = self._tables(key)
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
        _snapshot, extract, _extracts = self._tables(key)
        with self.connect() as conn, conn.transaction():
            self._check_current(conn, key, extract_id)
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
        snapshot, extract, _extracts = self._tables(key)
        with self.connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
            self._check_current(conn, key, extract_id)
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
                        WHERE d.change = 'deleted' AND s.id = d.id
                    ),
                    kept AS (
                        INSERT INTO {snapshot} (id, hash)
                        SELECT id, hash FROM d WHERE change <> 'deleted'
                        ON CONFLICT (id) DO UPDATE SET hash = EXCLUDED.hash
                    )
                    SELECT count(*) FROM d
                    """
                ).format(extract=extract, snapshot=snapshot, changed=_CHANGED),
                (ids,),
            ).fetchone()
        assert row is not None
        committed = int(row[0])
        if committed >= ANALYZE_AFTER:
            # Fresh statistics, so the next diff plans its join on the snapshot's size.
            with self.connect() as conn:
                conn.execute(sql.SQL("ANALYZE {}").format(snapshot))
        return committed

    def reset(self, key: str) -> None:
        snapshot, extract, extracts = self._tables(key)
        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,))
            if exists.fetchone() is None:
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"retl:{key}",))
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(snapshot, extract))
                try:
                    with conn.transaction():
                        conn.execute(
                            sql.SQL("DELETE FROM {} WHERE key = %s").format(extracts), (key,)
                        )
                except errors.UndefinedTable:
                    pass
