"""A space with real profiles, an audience and a computed trait computed by real
runs, and members in each space role, for the Audiences / Computed Traits pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from engage.models import Computation, RunTrigger, Space
from engage.services import computation_runs
from engage.services.computations import do_create_computation
from tests.engage.compute_support import NOW, World, ago, did, within
from tests.engage.spaces_support import Acme, make_acme

BUYERS: dict[str, Any] = {
    "version": 1,
    "type": "users",
    "include_anonymous": False,
    "include_historical": True,
    "root": did("Order Completed", window=within(7)),
}
EVER_BOUGHT: dict[str, Any] = {**BUYERS, "root": did("Order Completed")}  # all history
REVENUE: dict[str, Any] = {
    "version": 1,
    "type": "users",
    "kind": "aggregation",
    "event": "Order Completed",
    "where": None,
    "window": within(30),
    "property": "total",
    "aggregation": "sum",
}


@dataclass
class Pages:
    acme: Acme
    space: Space
    world: World
    buyers: Computation
    revenue: Computation

    def url(self, path: str = "", *, space: str | None = None) -> str:
        return f"/workspaces/acme/engage/spaces/{space or self.space.slug}/{path}"

    def client(self, user: User | None = None) -> Client:
        client = Client()
        client.force_login(user or self.acme.owner)
        return client

    def create(self, name: str, definition: dict[str, Any], **kw: Any) -> Computation:
        return do_create_computation(
            principal=self.acme.principal,
            space=kw.pop("space", self.space),
            kind=kw.pop("kind", "audience"),
            display_name=name,
            definition=definition,
            **kw,
        )


def run_now(computation: Computation) -> None:
    run = computation_runs.queue_run(computation, RunTrigger.MANUAL)
    computation_runs.execute(run.pk, now=NOW)
    computation.refresh_from_db()


def make_pages(buyers: int = 3, definition: dict[str, Any] | None = None) -> Pages:
    acme = make_acme()
    space = acme.space("dev")
    world = World(space)
    for n in range(1, buyers + 1):
        world.identify(f"u{n}", email=f"u{n}@example.com")
        world.track(f"u{n}", "Order Completed", at=ago(days=1), total=10 * n)
    world.identify("idle", email="idle@example.com")
    pages = Pages(acme, space, world, None, None)  # type: ignore[arg-type]
    pages.buyers = pages.create("Recent Buyers", definition or BUYERS, folder="Retention")
    pages.revenue = pages.create("Revenue", REVENUE, kind="trait")
    run_now(pages.buyers)
    run_now(pages.revenue)
    return pages
