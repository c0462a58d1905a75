"""Whatever an event holds, the pipeline (``connections.rules.route``) and each
catalog action's payload building give every event an outcome: nothing raises
past the per-event boundary (issue 11, defect 1). Database-free; the HTTP
actions send to a real local server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connections import catalog
from connections.catalog import DestinationDefinition
from connections.dataplane.delivery import actions
from connections.dataplane.delivery.outcomes import INTERNAL, PAYLOAD_ERRORS, Result
from connections.rules import CompiledFilters, MappingRule, route
from tests.connections.delivery_support import Server

EXTREME_TIMESTAMPS = (
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999Z",
    "2026-02-30T00:00:00Z",
    "not a date",
    "",
)

timestamps = st.sampled_from(EXTREME_TIMESTAMPS) | st.builds(
    lambda when, hours: when.replace(tzinfo=dt.timezone(dt.timedelta(hours=hours))).isoformat(),
    st.datetimes(),
    st.integers(-14, 14),
)


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**300)
    | st.integers(min_value=-(2**300), max_value=-(2**63))
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.from_regex(r"-?[0-9]{19,60}", fullmatch=True)  # numbers in strings: @json decode
    | st.sampled_from(['{"a": [1, 2]}', "1e999", "NaN", "ios", "android"])
    | timestamps
    | st.integers(250, 320).map(_nested)  # deeper than JSON encoders go
)
keys = st.sampled_from(
    ["when", "raw", "name", "email", "phone", "timezone", "type", "token", "address"]
) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=16,
)
objects = st.dictionaries(keys, json_values, max_size=6)
events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]),
        "messageId": st.text(max_size=8),
        "userId": json_values,
        "anonymousId": json_values,
        "timestamp": timestamps | json_values,
        "properties": objects,
        "traits": objects,
        "context": st.fixed_dictionaries({"device": objects, "traits": objects}) | objects,
    },
    optional={
        "event": json_values,
        "name": json_values,
        "groupId": json_values,
        "previousId": json_values,
        "integrations": json_values,
    },
)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


def _rules(definition: DestinationDefinition, url: str) -> list[MappingRule]:
    """Each action's default mapping (under its default trigger and under any
    event), its presets, and mappings that feed event content where it hurts."""
    rules: list[MappingRule] = []
    for action in definition.actions:
        mapping = action.default_mapping()
        if definition.slug == "actions-webhook":
            mapping = {**mapping, "url": url}
        for trigger in (action.default_trigger, 'type = "track" or type != "track"'):
            rules.append(MappingRule(action.key, action.name, action.key, True, trigger, mapping))
        tricky = {
            **mapping,
            "timestamp": {"@path": "$.properties.when"},
            "data": {"@json": {"mode": "decode", "value": {"@path": "$.properties.raw"}}},
            "headers": {"@path": "$.properties"},
            "properties": {"@json": {"mode": "decode", "value": {"@path": "$.properties.raw"}}},
        }
        tricky = {k: v for k, v in tricky.items() if action.field(k) is not None}
        rules.append(MappingRule("tricky", "Tricky", action.key, True, "type = type", tricky))
        if definition.slug == "actions-webhook":
            batched = {**tricky, "enable_batching": True, "batch_size": 2}
            rules.append(MappingRule("batch", "Batch", action.key, True, "type = type", batched))
    for preset in definition.presets:
        rules.append(
            MappingRule(
                preset.name, preset.name, preset.action, True, preset.trigger, preset.mapping
            )
        )
    return rules


def _outcomes(
    definition: DestinationDefinition,
    rules: list[MappingRule],
    batch: list[dict[str, Any]],
    url: str,
) -> None:
    """A destination's run over ``batch``: every event has, at each mapping, a
    routing answer, and every send built from it a Result (none raises)."""
    queued: dict[str, list[actions.Send]] = {}
    for event in batch:
        routed = route(CompiledFilters([]), rules, event)
        assert len(routed.mappings) == len(rules)
        for match in routed.mappings:
            assert match.error or not match.matched or isinstance(match.payload, dict)
            # A content error is expected and confined; any other would be a bug.
            assert match.exception is None or isinstance(match.exception, PAYLOAD_ERRORS)
        for match in routed.sent:
            send = actions.Send(str(event.get("messageId")), match.payload, str(event["type"]))
            queued.setdefault(match.rule.action, []).append(send)
    settings = {"url": url, "shared_secret": "s3cret", "api_key": "k", "source_write_key": "w"}
    now = dt.datetime.now(dt.UTC)
    for key, sends in queued.items():
        action = definition.action(key)
        assert action is not None
        if definition.slug == "segment-connections":
            # Its payload building, up to the store (which needs the database).
            for send in sends:
                prepared = actions.spec_rows(key, send, now)
                assert isinstance(prepared, Result | tuple)
                assert not isinstance(prepared, Result) or prepared.code != INTERNAL
            continue
        context = actions.Context(definition, action, settings)
        results = actions.perform(context, sends)
        assert len(results) == len(sends)
        assert all(isinstance(r, Result) for r in results)
        # INTERNAL is the safety net's answer to a bug: none may be needed here.
        assert [r.message for r in results if r.code == INTERNAL] == []


@pytest.mark.parametrize("slug", [d.slug for d in catalog.destinations()])
def test_no_event_content_raises_past_the_event(slug: str, receiver: Server) -> None:
    definition = catalog.destination(slug)
    assert definition is not None
    rules = _rules(definition, f"{receiver.url}/hook")
    endpoints = {"connect": receiver.url, "userengage": receiver.url}

    @settings(
        max_examples=100,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(events, min_size=1, max_size=3))
    def check(batch: list[dict[str, Any]]) -> None:
        _outcomes(definition, rules, batch, f"{receiver.url}/equals")

    with override_settings(DELIVERY_ALLOW_PRIVATE_NETWORKS=True, DELIVERY_ENDPOINTS=endpoints):
        check()
