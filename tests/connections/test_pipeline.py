"""One event at one destination: filters first, then each mapping's trigger and fields."""

from __future__ import annotations

from connections.rules import filtering
from connections.rules.pipeline import NO_MATCHING_MAPPING, MappingRule, route


def rule(key: str, trigger: str, mapping: object, *, enabled: bool = True) -> MappingRule:
    return MappingRule(
        key=key, name=key, action="send", enabled=enabled, trigger=trigger, mapping=mapping
    )


def compiled(*specs: dict) -> filtering.CompiledFilters:
    return filtering.CompiledFilters(
        [filtering.filter_spec_from_json({"enabled": True, **s}) for s in specs]
    )


TRACK = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u1",
    "properties": {"total": 30, "email": "a@b.c"},
}


def test_every_matching_mapping_sends_once() -> None:
    rules = [
        rule("tracks", "type = 'track'", {"name": {"@path": "$.event"}}),
        rule("orders", "event = 'Order Completed'", {"total": {"@path": "$.properties.total"}}),
        rule("pages", "type = 'page'", {"name": {"@path": "$.name"}}),
    ]
    routed = route(compiled(), rules, TRACK)
    assert [(m.rule.key, m.payload) for m in routed.sent] == [
        ("tracks", {"name": "Order Completed"}),
        ("orders", {"total": 30}),
    ]
    assert routed.reason == ""


def test_filters_run_before_mappings_and_mappings_see_the_filtered_event() -> None:
    drop_email = {
        "title": "No PII",
        "if": "all",
        "actions": [{"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}],
    }
    rules = [rule("all", "type = 'track'", {"props": {"@path": "$.properties"}})]
    routed = route(compiled(drop_email), rules, TRACK)
    assert routed.sent[0].payload == {"props": {"total": 30}}


def test_a_dropped_event_reaches_no_mapping() -> None:
    drop = {
        "title": "Only orders",
        "if": "event != 'Order Completed'",
        "actions": [{"type": "DROP"}],
    }
    rules = [rule("all", "type = 'track'", {"x": 1})]
    routed = route(compiled(drop), rules, {**TRACK, "event": "Viewed"})
    assert routed.event is None
    assert routed.dropped_by == "Only orders"
    assert routed.reason == "FILTERED_BY_RULES"
    assert routed.mappings == []


def test_disabled_mappings_and_no_match_give_no_matching_mapping() -> None:
    rules = [rule("off", "type = 'track'", {"x": 1}, enabled=False)]
    routed = route(compiled(), rules, TRACK)
    assert routed.sent == []
    assert routed.mappings[0].payload == {"x": 1}  # the preview can still show it
    assert routed.reason == NO_MATCHING_MAPPING


def test_a_trigger_that_fails_to_evaluate_does_not_send() -> None:
    rules = [rule("broken", "length(properties) > 1", {"x": 1})]
    routed = route(compiled(), rules, TRACK)
    assert routed.sent == []
    assert "length" in routed.mappings[0].error


def test_explain_is_only_computed_when_asked() -> None:
    drop = {"title": "t", "if": "all", "actions": [{"type": "DROP"}]}
    assert route(compiled(drop), [], TRACK).filters == []
    explained = route(compiled(drop), [], TRACK, explain=True).filters
    assert explained[0]["title"] == "t" and explained[0]["matched"] is True
