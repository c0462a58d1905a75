# ruff: noqa: S608 - warehouse statements name generated test tables.
"""What the Reverse ETL page tests share: a workspace with an owner, a reader
(Source Read-only on all sources), an outsider, and a source on a real warehouse
database with a customers table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSource
from connections.reverse_etl.services.mappings import do_create_mapping
from connections.reverse_etl.services.models import do_create_retl_model
from connections.reverse_etl.services.sources import do_create_retl_source
from switchyard.access import Principal
from tests.connections.delivery_support import make_setup
from tests.connections.reverse_etl.warehouse_support import WarehouseDb
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

UI = "/workspaces/acme/reverse-etl"
PASSWORD = "s3cret-Pa55word"


@dataclass
class People:
    workspace: Workspace
    owner: User
    reader: User
    outsider: User

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


@pytest.fixture
def people(make_user: Callable[..., User], make_workspace: Callable[..., Workspace]) -> People:
    owner = make_user("olivia")
    workspace = make_workspace(owner, "acme", "Acme")
    reader = make_user("reader")
    Membership.objects.create(workspace=workspace, user=reader)
    do_create_grant(
        principal=Principal(owner),
        workspace=workspace,
        grantee=reader,
        role="source-read-only",
        scope="all",
    )
    return People(workspace, owner, reader, make_user("outsider"))


def source_form(db: WarehouseDb, **extra: Any) -> dict[str, Any]:
    """The PostgreSQL form's fields for the warehouse database."""
    s = db.settings()
    return {
        "display_name": "Data warehouse",
        "slug": "dwh",
        "host": s.host,
        "port": s.port,
        "database": s.database,
        "username": s.username,
        "password": s.password or PASSWORD,
        "dsn": "",
        "ssl_mode": s.ssl_mode,
        **extra,
    }


def make_source(people: People, db: WarehouseDb, slug: str = "dwh") -> RetlSource:
    s = db.settings()
    return do_create_retl_source(
        principal=Principal(people.owner),
        workspace=people.workspace,
        slug=slug,
        display_name="Data warehouse",
        host=s.host,
        port=s.port,
        database=s.database,
        username=s.username,
        password=s.password or PASSWORD,
        ssl_mode=s.ssl_mode,
    )


def customers_table(db: WarehouseDb, rows: str = "('c1', 'free'), ('c2', 'pro')") -> str:
    table = db.table("customers")
    db.run(f"CREATE TABLE {table} (customer_id text, plan text)")
    db.run(f"INSERT INTO {table} VALUES {rows}")
    return table


def make_model(people: People, source: RetlSource, table: str) -> RetlModel:
    return do_create_retl_model(
        principal=Principal(people.owner),
        source=source,
        slug="customers",
        display_name="Customers",
        query=f"SELECT customer_id, plan FROM {table}",
        identifier_column="customer_id",
    )


def make_mapping(
    people: People, db: WarehouseDb, url: str = "https://hooks.example/x", **fields: Any
) -> RetlMapping:
    """A customers model on a new source, mapped to a webhook's Send action at ``url``."""
    model = make_model(people, make_source(people, db), customers_table(db))
    destination = make_setup(people.owner, people.workspace).destination("actions-webhook")
    return do_create_mapping(
        principal=Principal(people.owner),
        model=model,
        destination=destination,
        action="send",
        display_name="Customers to the hook",
        field_mappings={"url": url, "method": "POST", **fields},
    )
