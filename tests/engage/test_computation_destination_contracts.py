"""The resource contract (tests/resource_contract.py) on the destinations of an
audience and of a computed trait. Each tenant has the space ``main`` holding the
audience ``synced`` and the trait ``counted`` (same keys in both workspaces, so a
stranger can name the owner's rows under its own space); every made or created
connection gets a destination of its own, on a source of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from connections.services.destinations import do_create_destination
from engage.models import Computation, ComputationDestination
from engage.services.computation_destinations import do_connect_destination
from engage.services.computations import do_create_computation
from tests.engage.test_resource_contracts import (
    AUDIENCE,
    GRANTED_ONLY,
    SPACE_READER,
    TRAIT,
    SpaceTenant,
    new_source,
    space_of,
    with_space,
)
from tests.resource_contract import (
    EQUALS,
    Change,
    Resource,
    ResourceContract,
    Tenant,
    World,
    build_world,
    generate,
    openapi_document,
)

pytestmark = pytest.mark.django_db
__all__ = ["openapi_document"]

KEYS = {"audience": "synced", "trait": "counted"}


@dataclass
class ComputationTenant(SpaceTenant):
    @property
    def path_vars(self) -> dict[str, str]:
        return {**super().path_vars, "audience": KEYS["audience"], "computed_trait": KEYS["trait"]}


def with_computations(tenant: Tenant) -> ComputationTenant:
    spaced = with_space(tenant)
    for kind, definition in (("audience", AUDIENCE), ("trait", TRAIT)):
        do_create_computation(
            principal=tenant.principal,
            space=space_of(spaced),
            kind=kind,
            display_name=kind.title(),
            key=KEYS[kind],
            definition=definition,
        )
    fields = {name: getattr(spaced, name) for name in SpaceTenant.__dataclass_fields__}
    return ComputationTenant(**fields)


@pytest.fixture
def world(db: None) -> World:
    built = build_world()
    built.acme = with_computations(built.acme)
    built.globex = with_computations(built.globex)
    return built


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def new_destination(tenant: Tenant) -> Any:
    return do_create_destination(principal=tenant.principal, source=new_source(tenant), **EQUALS)


def make_connection(kind: str) -> Any:
    def make(tenant: Tenant, n: int) -> ComputationDestination:
        computation = Computation.objects.get(space=space_of(tenant), key=KEYS[kind])
        return do_connect_destination(
            principal=tenant.principal,
            computation=computation,
            destination=new_destination(tenant).key_id,
        )

    return make


def connect_body(tenant: Tenant, n: int) -> dict[str, Any]:
    return {"destination_id": new_destination(tenant).key_id, "send_track": True}


def resource(kind: str, collection: str, noun: str) -> Resource:
    return Resource(
        id=f"{noun.replace('_', '-')}-destinations",
        member_get=GRANTED_ONLY,
        reader_role=SPACE_READER,
        collection=f"workspaces/{{workspace}}/spaces/{{space}}/{collection}/destinations",
        resource_key="destination",
        collection_key="destinations",
        make=make_connection(kind),
        key_of=lambda row: row.destination.key_id,
        create=connect_body,
        update=(Change("send_track", True),),
        concurrent=(
            Change("send_track", True),
            Change("entered_event", "Joined"),
            Change("include_anonymous", True),
        ),
        delete=True,
        audit={
            "create": f"{noun}_destination.connected",
            "update": f"{noun}_destination.updated",
            "delete": f"{noun}_destination.disconnected",
        },
    )


DESTINATION_RESOURCES = (
    resource("audience", "audiences/{audience}", "audience"),
    resource("trait", "computed-traits/{computed_trait}", "computed_trait"),
)


class TestComputationDestinationResources(ResourceContract):
    RESOURCES = DESTINATION_RESOURCES
