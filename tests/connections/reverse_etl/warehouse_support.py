"""A real PostgreSQL "warehouse" for Reverse ETL tests: a database of its own on the
server the tests use (DATABASE_URL's, or the embedded one when it is unset),
created per module and dropped after, plus roles with chosen permissions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql

from connections.reverse_etl.warehouses.base import BookkeepingOptions, ConnectionSettings
from connections.reverse_etl.warehouses.postgres import PostgresWarehouse


def server_params(django_db_blocker: Any) -> dict[str, Any]:
    """Where the test database's server listens, as psycopg keywords."""
    from django.db import connection

    with django_db_blocker.unblock():
        connection.ensure_connection()
        params = dict(connection.get_connection_params())
    keep = ("host", "port", "user", "password")
    return {k: params[k] for k in keep if params.get(k) not in (None, "")}


def tables_of(conn: psycopg.Connection[Any], schema: str, key: str) -> list[str]:
    """The tables of ``schema`` whose names start with ``key`` (a model's bookkeeping)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname LIKE %s AND c.relkind = 'r' ORDER BY 1",
        (schema, f"{key}%"),
    ).fetchall()
    return [name for (name,) in rows]


@dataclass
class WarehouseDb:
    server: dict[str, Any]
    dbname: str
    roles: list[str] = field(default_factory=list)

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(**self.server, dbname=self.dbname, autocommit=True)

    def run(self, statement: str | sql.Composable, params: Any = None) -> list[tuple[Any, ...]]:
        with self.admin() as conn:
            cur = conn.execute(statement, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def settings(self, user: str | None = None, **overrides: Any) -> ConnectionSettings:
        values: dict[str, Any] = {
            "host": str(self.server.get("host", "")),
            "port": int(self.server.get("port", 5432)),
            "database": self.dbname,
            "username": user or str(self.server.get("user", "")),
            "password": str(self.server.get("password", "")) if user is None else "pw",
            "ssl_mode": "disable" if str(self.server.get("host", "")).startswith("/") else "prefer",
        }
        values.update(overrides)
        return ConnectionSettings(**values)

    def connector(
        self,
        user: str | None = None,
        *,
        bookkeeping: BookkeepingOptions | None = None,
        **overrides: Any,
    ) -> PostgresWarehouse:
        return PostgresWarehouse(self.settings(user, **overrides), bookkeeping)

    def make_role(self, *grants: str) -> str:
        """A login role with only ``grants`` (statements with {role} for its name)."""
        role = f"retl_{uuid.uuid4().hex[:10]}"
        self.roles.append(role)
        ident = sql.Identifier(role).as_string(None)
        self.run(f"CREATE ROLE {ident} LOGIN PASSWORD 'pw'")
        for grant in grants:
            self.run(grant.format(role=ident))
        return role

    def table(self, prefix: str = "t") -> str:
        return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def warehouse(django_db_setup: Any, django_db_blocker: Any) -> Iterator[WarehouseDb]:
    server = server_params(django_db_blocker)
    dbname = f"retl_wh_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    built = WarehouseDb(server, dbname)
    try:
        yield built
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
            for role in built.roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def database_dsn_of_tests() -> str:
    """A libpq connection string to the tests' own database: a warehouse for models
    whose query needs no table (``SELECT 'c1' AS customer_id``)."""
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    connection.ensure_connection()
    params = connection.get_connection_params()
    keep = ("host", "port", "user", "password", "dbname")
    return make_conninfo(**{k: str(params[k]) for k in keep if params.get(k) not in (None, "")})
