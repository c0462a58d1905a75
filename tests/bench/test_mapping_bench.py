"""Mapping kit speed: resolving the Segment Connections "Send Track" default mapping
against a typical track event, compared with a hand-written function doing the same
copying, in the same run. Prints the ratio (bar: <= 3.0); never asserts on time.

Run: make bench  (or: python -m pytest tests/bench/test_mapping_bench.py -s)
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from connections.rules.mapping import compile

# The action's default field mappings (its page lists the fields; the catalog
# file of the connections work will carry the same defaults).
SEND_TRACK: dict[str, Any] = {
    "user_id": {"@path": "$.userId"},
    "anonymous_id": {"@path": "$.anonymousId"},
    "timestamp": {"@path": "$.timestamp"},
    "event_name": {"@path": "$.event"},
    "application": {"@path": "$.context.app"},
    "campaign_parameters": {"@path": "$.context.campaign"},
    "device": {"@path": "$.context.device"},
    "ip_address": {"@path": "$.context.ip"},
    "locale": {"@path": "$.context.locale"},
    "location": {"@path": "$.context.location"},
    "network": {"@path": "$.context.network"},
    "operating_system": {"@path": "$.context.os"},
    "page": {"@path": "$.context.page"},
    "screen": {"@path": "$.context.screen"},
    "user_agent": {"@path": "$.context.userAgent"},
    "timezone": {"@path": "$.context.timezone"},
    "group_id": {"@path": "$.context.groupId"},
    "properties": {"@path": "$.properties"},
}

FIELDS = {
    "user_id": ("userId",),
    "anonymous_id": ("anonymousId",),
    "timestamp": ("timestamp",),
    "event_name": ("event",),
    "application": ("context", "app"),
    "campaign_parameters": ("context", "campaign"),
    "device": ("context", "device"),
    "ip_address": ("context", "ip"),
    "locale": ("context", "locale"),
    "location": ("context", "location"),
    "network": ("context", "network"),
    "operating_system": ("context", "os"),
    "page": ("context", "page"),
    "screen": ("context", "screen"),
    "user_agent": ("context", "userAgent"),
    "timezone": ("context", "timezone"),
    "group_id": ("context", "groupId"),
    "properties": ("properties",),
}


def by_hand(event: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, (first, *rest) in FIELDS.items():
        if first not in event:
            continue
        value = event[first]
        if rest:
            if not isinstance(value, dict) or rest[0] not in value:
                continue
            value = value[rest[0]]
        out[key] = value
    return out


def make_event(i: int) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{i}",
        "anonymousId": f"anon-{i}",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "messageId": f"m-{i}",
        "context": {
            "ip": "203.0.113.7",
            "locale": "en-US",
            "userAgent": "Mozilla/5.0",
            "timezone": "Europe/Paris",
            "page": {"path": "/checkout", "url": "https://example.com/checkout"},
            "library": {"name": "analytics.js", "version": "2.0"},
            "device": {"id": f"d-{i}", "type": "desktop"},
            "os": {"name": "Linux"},
            "campaign": {"source": "newsletter"},
        },
        "properties": {"total": i * 1.5, "currency": "EUR", "products": [{"sku": "A"}]},
    }


def timed(function: Any, events: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for event in events:
        function(event)
    return time.perf_counter() - start


def test_send_track_mapping_against_hand_written_copy() -> None:
    events = [make_event(i) for i in range(20_000)]
    resolver = compile(SEND_TRACK)
    for event in events[:200]:
        assert resolver(event) == by_hand(event)
    mapped, manual = [], []
    for _ in range(3):  # warm up
        timed(resolver, events[:2000])
        timed(by_hand, events[:2000])
    for _ in range(9):  # interleaved, so both see the same machine noise
        mapped.append(timed(resolver, events))
        manual.append(timed(by_hand, events))
    m, h = statistics.median(mapped), statistics.median(manual)
    print(
        f"\nmapping kit, Segment Connections Send Track default mapping, {len(events):,} events\n"
        f"  mapping kit:  median {m * 1e6 / len(events):.2f} us/event\n"
        f"  hand-written: median {h * 1e6 / len(events):.2f} us/event\n"
        f"  ratio mapping/hand-written: {m / h:.2f} (bar: <= 3.0)"
    )
