"""PATCH a role grant: role, label selector or listed resources; audited, validated,
and concurrent updates of different parts all survive."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import AuditEntry, Label, Membership, RoleGrant, Workspace
from workspace.services.grants import do_create_grant

GRANTS = "/v1beta/workspaces/acme/grants"


@pytest.fixture
def acme(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    for slug, label in (("web", "environment:prod"), ("ios", "environment:dev")):
        do_create_source(
            principal=Principal(alice),
            workspace=workspace,
            slug=slug,
            display_name=slug,
            labels=[label],
        )
    return workspace


def label_grant(acme: Workspace, alice: User, bob: User) -> RoleGrant:
    return do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=bob,
        role="source-admin",
        scope="labels",
        labels=[Label.objects.get(workspace=acme, key="environment", value="prod")],
    )


def visible(client: APIClient) -> list[str]:
    return [s["name"] for s in client.get("/v1beta/workspaces/acme/sources").json()["sources"]]


def patch(api: APIClient, grant: RoleGrant, **fields: object) -> object:
    body = {"grant": fields, "update_mask": {"paths": [f"grant.{k}" for k in fields]}}
    return api.patch(f"{GRANTS}/{grant.pk}", body, format="json")


@pytest.mark.django_db
def test_patch_changes_the_selector_and_the_grantee_sees_it_next_request(
    acme: Workspace, alice: User, bob: User, api: APIClient, token_client: Callable
) -> None:
    grant = label_grant(acme, alice, bob)
    bob_api = token_client(bob)
    assert [
        s["name"] for s in bob_api.get("/v1beta/workspaces/acme/sources").json()["sources"]
    ] == ["workspaces/acme/sources/web"]
    response = patch(api, grant, labels=["environment:dev"])
    assert response.status_code == 200, response.content
    assert response.json()["labels"] == ["environment:dev"]
    assert [
        s["name"] for s in bob_api.get("/v1beta/workspaces/acme/sources").json()["sources"]
    ] == ["workspaces/acme/sources/ios"]
    entry = AuditEntry.objects.get(action="grant.updated")
    assert entry.before["labels"] == ["environment:prod"]
    assert entry.after["labels"] == ["environment:dev"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"labels": []}, "at least one label"),
        ({"role": "no-such-role"}, "unknown role"),
        ({"role": "workspace-owner"}, "takes scope"),
        ({"labels": ["nope:x"]}, "unknown label"),
        ({"resources": ["workspaces/acme/sources/web"]}, "only to scope 'specific'"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(
    acme: Workspace, alice: User, bob: User, api: APIClient, fields: dict, message: str
) -> None:
    grant = label_grant(acme, alice, bob)
    response = patch(api, grant, **fields)
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    grant.refresh_from_db()
    assert grant.role == "source-admin"
    assert [str(label) for label in grant.labels.all()] == ["environment:prod"]
    assert not AuditEntry.objects.filter(action="grant.updated").exists()


@pytest.mark.django_db
def test_scope_and_principal_are_read_only(
    acme: Workspace, alice: User, bob: User, api: APIClient
) -> None:
    grant = label_grant(acme, alice, bob)
    response = patch(api, grant, scope="all")
    assert response.status_code == 400 and "scope" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_of_role_and_labels_both_survive(
    acme: Workspace, alice: User, bob: User, token_client: Callable
) -> None:
    for _round in range(4):
        grant = label_grant(acme, alice, bob)
        clients = [token_client(alice), token_client(alice)]
        bodies = [{"role": "source-read-only"}, {"labels": ["environment:dev"]}]
        barrier = threading.Barrier(len(bodies))
        statuses: list[int] = []

        def run(
            client: APIClient,
            fields: dict,
            grant: RoleGrant = grant,
            barrier: threading.Barrier = barrier,
            statuses: list[int] = statuses,
        ) -> None:
            try:
                barrier.wait()
                statuses.append(patch(client, grant, **fields).status_code)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=run, args=pair) for pair in zip(clients, bodies, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200, 200]
        grant.refresh_from_db()
        assert grant.role == "source-read-only"
        assert [str(label) for label in grant.labels.all()] == ["environment:dev"]
        assert grant.label_count == 1
        grant.delete()
