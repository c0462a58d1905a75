"""Delivery throughput: stored events to a local webhook with batching, against
raw HTTP posts of the same payloads with the same client, in the same run.

The bar (Tracking API issue): a worker delivers at least 2,000 events/s to a
local webhook with batching where the action supports it. The engine runs in
process (no broker): claim each outbox batch, load its events, apply the
destination's filter and mapping, POST one JSON array per 100 events, record the
outcomes and counters, delete the batch. The baseline POSTs the very bodies the
delivery sent, one after another, through the same client and server.

Timings are printed, never asserted. Run: make bench (or
python -m pytest tests/bench/test_delivery_bench.py -s).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from connections.dataplane.delivery import http
from connections.models import DeliveryBatch, PipelineCount
from connections.services.filters import do_create_filter
from tests.connections.delivery_support import Server, make_setup, track
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

EVENTS = 20_000
PER_BATCH = 100  # events per Tracking API request, so per outbox batch
ROUNDS = 3
BAR = 2_000  # events/s


def event(i: int) -> dict[str, Any]:
    return track(
        "Order Completed",
        messageId=f"bench-{i}",
        anonymousId=f"anon-{i}",
        context={
            "ip": "203.0.113.7",
            "userAgent": "Mozilla/5.0",
            "page": {"path": "/checkout", "url": "https://example.com/checkout"},
            "library": {"name": "analytics.js", "version": "2.0"},
        },
        properties={"total": i * 1.5, "currency": "EUR", "products": [{"sku": "A"}]},
    )


def test_delivery_to_a_batching_webhook_against_raw_posts(
    alice: User, make_workspace: Callable[..., Workspace], settings: Any
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    server = Server()
    try:
        web = make_setup(alice, make_workspace(alice, "bench"))
        destination, _ = web.webhook(
            f"{server.url}/hook", enable_batching=True, batch_size=PER_BATCH
        )
        do_create_filter(
            principal=web.principal,
            destination=destination,
            title="No internal traffic",
            if_="properties.internal = true",
            actions=[{"type": "DROP"}],
        )
        outbox = []
        for start in range(0, EVENTS, PER_BATCH):
            stored = web.track(*[event(i) for i in range(start, start + PER_BATCH)])
            batch = DeliveryBatch.objects.get(pk=stored.batch_id)
            outbox.append((batch.source_id, batch.received_at, batch.event_ids))
        DeliveryBatch.objects.all().delete()

        def deliver() -> float:
            ids = [
                DeliveryBatch.objects.create(source_id=s, received_at=r, event_ids=e).pk
                for s, r, e in outbox
            ]
            began = time.perf_counter()
            for batch_id in ids:
                deliver.deliver_batch(batch_id)
            return time.perf_counter() - began

        deliver()  # warm up; and the bodies the baseline replays
        bodies = [r.body for r in server.requests]
        assert len(bodies) == EVENTS // PER_BATCH
        headers = {"Content-Type": "application/json"}

        def raw() -> float:
            began = time.perf_counter()
            for body in bodies:
                assert http.send("POST", f"{server.url}/hook", headers=headers, body=body).status
            return time.perf_counter() - began

        delivered, posted = [], []
        for _ in range(ROUNDS):  # interleaved, so both see the same machine noise
            delivered.append(deliver())
            posted.append(raw())
        assert not DeliveryBatch.objects.exists()
        sent = PipelineCount.objects.filter(stage="delivery", outcome="delivered")
        assert sum(sent.values_list("count", flat=True)) == EVENTS * (ROUNDS + 1)
    finally:
        server.close()

    d, p = statistics.median(delivered), statistics.median(posted)
    print(
        f"\ndelivery to a local webhook, {EVENTS:,} events in batches of {PER_BATCH}, "
        f"1 filter, 1 mapping\n"
        f"  delivery:  median {EVENTS / d:,.0f} events/s ({d * 1e3 / len(bodies):.2f} ms/request)"
        f"  (bar: >= {BAR:,} events/s)\n"
        f"  raw posts: median {EVENTS / p:,.0f} events/s ({p * 1e3 / len(bodies):.2f} ms/request)\n"
        f"  ratio delivery/raw time: {d / p:.2f}"
    )
