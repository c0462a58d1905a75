"""The warehouses Segment documents as Reverse ETL sources; only PostgreSQL is built.

Reference: connections.md section 9.1 (Azure, BigQuery, Databricks, Postgres,
Redshift, Snowflake) and their setup guides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connections.reverse_etl.warehouses.base import (
    BookkeepingOptions,
    ConnectionSettings,
    Warehouse,
)


@dataclass(frozen=True)
class WarehouseType:
    slug: str
    name: str
    settings: tuple[str, ...]  # what its setup guide asks for
    connector: Callable[[ConnectionSettings, BookkeepingOptions], Warehouse] | None = None

    @property
    def implemented(self) -> bool:
        return self.connector is not None


def _postgres(settings: ConnectionSettings, bookkeeping: BookkeepingOptions) -> Warehouse:
    from connections.reverse_etl.warehouses.postgres import PostgresWarehouse

    return PostgresWarehouse(settings, bookkeeping)


WAREHOUSES: tuple[WarehouseType, ...] = (
    WarehouseType(
        "postgres",
        "Postgres",
        ("host", "port", "database", "user", "password or DSN", "SSL mode"),
        _postgres,
    ),
    WarehouseType(
        "azure", "Azure (dedicated SQL pool / Synapse)", ("hostname", "port", "database", "user")
    ),
    WarehouseType("bigquery", "BigQuery", ("service account JSON",)),
    WarehouseType(
        "databricks",
        "Databricks",
        ("hostname", "HTTP path", "port", "service principal client id and secret", "catalog"),
    ),
    WarehouseType("redshift", "Redshift", ("host", "port", "database", "user", "password")),
    WarehouseType(
        "snowflake",
        "Snowflake",
        ("account", "warehouse", "database", "username", "key pair or password"),
    ),
)
BY_SLUG = {w.slug: w for w in WAREHOUSES}


def connector(
    slug: str, settings: ConnectionSettings, bookkeeping: BookkeepingOptions | None = None
) -> Warehouse:
    kind = BY_SLUG[slug]
    assert kind.connector is not None, f"{slug} is not implemented"
    return kind.connector(settings, bookkeeping or BookkeepingOptions())
