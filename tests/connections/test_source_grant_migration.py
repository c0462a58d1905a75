"""connections 0006 moves specific-source grants out of the table workspace 0007
created before the apps' boundaries were fixed, so an upgraded install keeps them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from connections.models import Source, SourceGrant
from workspace.models import Membership, RoleGrant, Workspace


def migrate(*target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(target))


def migrate_to_latest() -> None:
    """Every app's latest migration: going back to connections 0005 also unapplied
    what depends on it (later connections migrations, privacy's, engage's), which
    the tests that run after this one need."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    yield
    migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_existing_specific_grants_move_to_source_grants(
    alice: User, bob: User, make_workspace: Callable[..., Workspace], back_to_latest: None
) -> None:
    workspace = make_workspace(alice, "acme")
    Membership.objects.create(workspace=workspace, user=bob)
    source = Source.objects.create(workspace=workspace, slug="js", display_name="JS")
    grant = RoleGrant.objects.create(
        workspace=workspace, user=bob, role="source-admin", scope="specific"
    )
    migrate(("connections", "0005_delivery"))
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE workspace_rolegrant_sources"
                " (id bigserial PRIMARY KEY, rolegrant_id bigint, source_id bigint)"
            )
            cursor.execute(
                "INSERT INTO workspace_rolegrant_sources (rolegrant_id, source_id) VALUES (%s, %s)",
                [grant.pk, source.pk],
            )
    finally:
        migrate(("connections", "0006_source_grants"))
    assert list(SourceGrant.objects.values_list("grant_id", "source_id")) == [(grant.pk, source.pk)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('workspace_rolegrant_sources')")
        assert cursor.fetchone() == (None,)
