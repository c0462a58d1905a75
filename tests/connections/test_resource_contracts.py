"""The resource contract (tests/resource_contract.py) on every connections resource."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from connections.models import Event, WriteKey
from connections.services.destinations import do_create_destination
from connections.services.filters import do_create_filter
from connections.services.sources import do_create_source
from connections.services.subscriptions import do_create_subscription
from connections.services.write_keys import do_create_write_key
from tests.resource_contract import (
    EQUALS,
    Change,
    Resource,
    ResourceContract,
    Tenant,
    generate,
    openapi_document,
    unique,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["openapi_document", "world"]

READ_ONLY = "a read-only resource: no writes"
CATALOG = {
    "audit": READ_ONLY,
    "read_only": READ_ONLY,
    "concurrent": READ_ONLY,
    "list_queries": "the catalog is files shipped with the app: no rows to add",
    "not_found": "the catalog is global: every caller may read all of it",
    "access": "the catalog is global: every caller may read all of it",
}
# Rows of a source: a member sees them through a grant on the source.
GRANTED = {"member_get": 404, "reader_role": "source-read-only"}
DROP_WITHOUT_USER = {"if": "length( userId ) < 1", "actions": [{"type": "DROP"}]}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def tracked_event(tenant: Tenant, n: int) -> Event:
    """An event sent the way a library sends one: the Tracking API with the write key."""
    key = WriteKey.objects.filter(source=tenant.source, revoke_time=None).first()
    assert key is not None
    message_id = unique("message-")
    body = {"userId": "u1", "event": "Signed Up", "messageId": message_id, "writeKey": key.secret}
    response = Client().post("/v1/track", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return Event.objects.get(source_id=tenant.source.pk, message_id=message_id)


CONNECTION_RESOURCES = (
    Resource(
        id="sources",
        **GRANTED,
        collection="workspaces/{workspace}/sources",
        resource_key="source",
        collection_key="sources",
        make=lambda t, n: do_create_source(
            principal=t.principal, workspace=t.workspace, slug=unique("src"), display_name="Made"
        ),
        key_of=lambda source: source.slug,
        create=lambda t, n: {
            "name": f"workspaces/{t.workspace.slug}/sources/{unique('new')}",
            "display_name": "iOS",
        },
        update=(Change("display_name", "Renamed"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("enabled", False),
            Change("labels", ["environment:prod"]),
        ),
        delete=True,
        audit={"create": "source.created", "update": "source.updated", "delete": "source.deleted"},
    ),
    Resource(
        id="write-keys",
        **GRANTED,
        collection="workspaces/{workspace}/sources/{source}/write-keys",
        resource_key="write_key",
        collection_key="write_keys",
        make=lambda t, n: do_create_write_key(
            principal=t.principal, source=t.source, description=unique("key ")
        ),
        key_of=lambda key: key.key_id,
        create=lambda t, n: {"description": "rotation"},
        delete=True,
        audit={"create": "write_key.created", "delete": "write_key.revoked"},
        not_applicable={"concurrent": "write keys have no Update"},
    ),
    Resource(
        id="destinations",
        **GRANTED,
        collection="workspaces/{workspace}/sources/{source}/destinations",
        resource_key="destination",
        collection_key="destinations",
        make=lambda t, n: do_create_destination(principal=t.principal, source=t.source, **EQUALS),
        key_of=lambda destination: destination.key_id,
        create=lambda t, n: dict(EQUALS),
        update=(Change("display_name", "Equals (EU)"),),
        concurrent=(
            Change("display_name", "Equals (EU)"),
            Change("enabled", True),
            Change("settings.url", "https://eu.equals.example/in"),
        ),
        delete=True,
        audit={
            "create": "destination.created",
            "update": "destination.updated",
            "delete": "destination.deleted",
        },
    ),
    Resource(
        id="subscriptions",
        **GRANTED,
        collection="workspaces/{workspace}/sources/{source}/destinations/{destination}"
        "/subscriptions",
        resource_key="subscription",
        collection_key="subscriptions",
        make=lambda t, n: do_create_subscription(
            principal=t.principal, destination=t.destination, action="send", name=unique("m")
        ),
        key_of=lambda subscription: subscription.key_id,
        create=lambda t, n: {"action": "send"},
        update=(Change("display_name", "Renamed"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("enabled", True),
            Change("trigger", "event = 'Signed Up'"),
        ),
        delete=True,
        audit={
            "create": "subscription.created",
            "update": "subscription.updated",
            "delete": "subscription.deleted",
        },
    ),
    Resource(
        id="filters",
        **GRANTED,
        collection="workspaces/{workspace}/sources/{source}/destinations/{destination}/filters",
        resource_key="filter",
        collection_key="filters",
        make=lambda t, n: do_create_filter(
            principal=t.principal,
            destination=t.destination,
            title=unique("filter "),
            if_=DROP_WITHOUT_USER["if"],
            actions=DROP_WITHOUT_USER["actions"],
        ),
        key_of=lambda row: row.key_id,
        create=lambda t, n: {"title": unique("Only with userId "), **DROP_WITHOUT_USER},
        update=(Change("title", "Renamed"),),
        concurrent=(
            Change("title", "Renamed"),
            Change("description", "Drops anonymous events"),
            Change("enabled", False),
        ),
        delete=True,
        audit={
            "create": "destination_filter.created",
            "update": "destination_filter.updated",
            "delete": "destination_filter.deleted",
        },
    ),
    Resource(
        id="events",
        **GRANTED,
        collection="workspaces/{workspace}/sources/{source}/events",
        resource_key="event",
        collection_key="events",
        make=tracked_event,
        key_of=lambda event: str(event.id),
        not_applicable={"audit": READ_ONLY, "read_only": READ_ONLY, "concurrent": READ_ONLY},
    ),
    Resource(
        id="catalog-sources",
        collection="catalog/sources",
        resource_key="source_type",
        collection_key="source_types",
        item_param="source_type",
        make=None,
        key_of=lambda _: "javascript",
        not_applicable=CATALOG,
    ),
    Resource(
        id="catalog-destinations",
        collection="catalog/destinations",
        resource_key="destination",
        collection_key="destination_definitions",
        make=None,
        key_of=lambda _: "actions-equals",
        not_applicable=CATALOG,
    ),
)


class TestConnectionResources(ResourceContract):
    RESOURCES = CONNECTION_RESOURCES
