"""Benchmark: a compiled 10-clause FQL filter vs the same checks written by hand in Python.

The bar: evaluating the compiled filter costs at most 3x the hand-written function.
Timings are printed, never asserted (they depend on the machine); agreement on every
event is asserted. Run with ``python -m pytest tests/bench/test_fql_bench.py -s``.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from connections.rules.fql import compile

EVENTS = 20_000
REPETITIONS = 7
BAR = 3.0

FILTER = """
type = 'track'
and event != 'Debug Ping'
and context.library.name in ['analytics.js', 'analytics-ios', 'analytics-android']
and properties.revenue > 10
and ( contains(context.page.path, '/checkout') or match(properties.sku, 'SKU-*-XL') )
and properties.currency in ['USD', 'EUR']
and !(userId = null)
and ( properties.coupon = null or match(properties.coupon, 'SPRING*') )
and context.traits.plan != 'free'
and properties.quantity >= 1
"""

LIBRARIES = ("analytics.js", "analytics-ios", "analytics-android", "analytics-go")
NAMES = frozenset(LIBRARIES[:3])
CURRENCIES = frozenset(("USD", "EUR"))


def hand_written(event: dict[str, Any]) -> bool:
    """The same filter, written the way a careful engineer would (FQL's strict types)."""
    if event.get("type") != "track":
        return False
    if event.get("event") == "Debug Ping":
        return False
    context = event.get("context")
    if not isinstance(context, dict):
        context = {}
    library = context.get("library")
    name = library.get("name") if isinstance(library, dict) else None
    if not isinstance(name, str) or name not in NAMES:
        return False
    props = event.get("properties")
    if not isinstance(props, dict):
        props = {}
    revenue = props.get("revenue")
    if isinstance(revenue, bool) or not isinstance(revenue, int | float) or not revenue > 10:
        return False
    page = context.get("page")
    path = page.get("path") if isinstance(page, dict) else None
    sku = props.get("sku")
    if not (
        (isinstance(path, str) and "/checkout" in path)
        or (
            isinstance(sku, str)
            and sku.startswith("SKU-")
            and sku.endswith("-XL")
            and len(sku) >= 7
        )
    ):
        return False
    currency = props.get("currency")
    if not isinstance(currency, str) or currency not in CURRENCIES:
        return False
    if event.get("userId") is None:
        return False
    coupon = props.get("coupon")
    if not (coupon is None or (isinstance(coupon, str) and coupon.startswith("SPRING"))):
        return False
    traits = context.get("traits")
    if (traits.get("plan") if isinstance(traits, dict) else None) == "free":
        return False
    quantity = props.get("quantity")
    return not isinstance(quantity, bool) and isinstance(quantity, int | float) and quantity >= 1


def make_event(rng: random.Random) -> dict[str, Any]:
    """A passing event; half of them then get one mutation aimed at one clause."""
    props: dict[str, Any] = {
        "revenue": rng.choice([12.5, 20, 99.99]),
        "currency": rng.choice(["USD", "EUR"]),
        "sku": rng.choice(["SKU-123-XL", "SKU-9-XL", "SKU-9-M"]),
        "quantity": rng.choice([1, 2, 3, 1.5]),
    }
    if rng.random() < 0.3:
        props["coupon"] = "SPRING24"
    context: dict[str, Any] = {
        "library": {"name": rng.choice(LIBRARIES[:3]), "version": "1.0"},
        "page": {"path": rng.choice(["/checkout/step-1", "/checkout", "/cart"])},
        "traits": {"plan": rng.choice(["pro", "business"])},
    }
    if props["sku"] == "SKU-9-M":
        context["page"]["path"] = "/checkout"
    event: dict[str, Any] = {
        "type": "track",
        "event": rng.choice(["Order Completed", "Product Viewed"]),
        "userId": f"user-{rng.randrange(1000)}",
        "context": context,
        "properties": props,
    }
    if rng.random() < 0.5:
        rng.choice(MUTATIONS)(event, rng)
    return event


def _set(path: str, *values: Any) -> Callable[[dict[str, Any], random.Random], None]:
    *parents, leaf = path.split(".")

    def mutate(event: dict[str, Any], rng: random.Random) -> None:
        target = event
        for key in parents:
            target = target.setdefault(key, {})
        value = rng.choice(values)
        if value is _DELETE:
            target.pop(leaf, None)
        else:
            target[leaf] = value

    return mutate


_DELETE = object()
MUTATIONS: list[Callable[[dict[str, Any], random.Random], None]] = [
    _set("type", "identify", "page", _DELETE),
    _set("event", "Debug Ping"),
    _set("context.library.name", "analytics-go", 1, _DELETE),
    _set("properties.revenue", 5, "15", True, None),
    _set("properties.sku", "sku-1-XL", "SKU-1-M", 7),
    _set("context.page", _DELETE, {"path": "/home"}),
    _set("properties.currency", "GBP", 1, None),
    _set("userId", None, _DELETE),
    _set("properties.coupon", "WINTER", 3),
    _set("context.traits.plan", "free"),
    _set("properties.quantity", 0, "2", False, _DELETE),
    _set("context.traits", _DELETE, "free"),
]


def _median_seconds(fn: Callable[[dict[str, Any]], bool], events: list[dict[str, Any]]) -> float:
    timings = []
    for _ in range(REPETITIONS):
        gc.disable()
        try:
            start = time.perf_counter()
            for event in events:
                fn(event)
            timings.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(timings)


def test_fql_vs_hand_written() -> None:
    rng = random.Random(20260501)
    events = [make_event(rng) for _ in range(EVENTS)]
    predicate = compile(FILTER)

    fql_results = [predicate.matches(e) for e in events]
    hand_results = [hand_written(e) for e in events]
    disagreements = [e for e, a, b in zip(events, fql_results, hand_results, strict=True) if a != b]
    assert not disagreements, disagreements[:3]
    passing = sum(fql_results)
    assert 0 < passing < EVENTS, "the data should exercise both outcomes"

    # Warm up both paths before timing.
    _median_seconds(predicate.matches, events[:1000])
    _median_seconds(hand_written, events[:1000])
    fql = _median_seconds(predicate.matches, events)
    hand = _median_seconds(hand_written, events)
    ratio = fql / hand
    print(
        f"\nFQL filter over {EVENTS} events ({passing} pass), median of {REPETITIONS}: "
        f"FQL {fql * 1000:.2f} ms, hand-written {hand * 1000:.2f} ms"
    )
    print(f"FQL/hand-written: {ratio:.2f} (bar: <= {BAR})")
