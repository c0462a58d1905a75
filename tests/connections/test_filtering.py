"""Destination filters (connections.rules.filtering): validation, each action, run order,
sampling, fail-closed errors and explain(). No database needed."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from connections.rules.filtering import (
    FILTERS_PER_DESTINATION,
    REASON_ERROR,
    REASON_FILTERED,
    REASON_SAMPLED,
    TITLE_MAX,
    ActionType,
    CompiledFilters,
    FilterAction,
    FilterSpec,
    clean_filter_spec,
    filter_spec_from_json,
    filter_spec_to_json,
)
from switchyard.errors import InvalidArgument

EVENT: dict[str, Any] = {
    "type": "track",
    "messageId": "msg-1",
    "timestamp": "2024-01-01T00:00:00Z",
    "event": "Order Completed",
    "userId": "u-1",
    "anonymousId": "a-1",
    "context": {"ip": "1.2.3.4", "library": {"name": "analytics.js"}, "traits": {"k": 1}},
    "properties": {
        "email": "ada@example.com",
        "total": 30.5,
        "products": [
            {"sku": "A", "price": 10, "name": "Pen"},
            {"sku": "B", "price": 20.5},
            "not-an-object",
        ],
        "address": {"city": "Paris", "zip": "75001"},
    },
    "traits": {"email": "ada@example.com", "plan": "pro"},
}


def spec(
    if_: str = "all",
    actions: list[dict[str, Any]] | None = None,
    *,
    title: str = "Filter",
    enabled: bool = True,
    description: str = "",
) -> FilterSpec:
    return clean_filter_spec(
        title=title,
        description=description,
        if_=if_,
        actions=actions if actions is not None else [{"type": "DROP"}],
        enabled=enabled,
    )


def invalid(**overrides: Any) -> InvalidArgument:
    kwargs: dict[str, Any] = {
        "title": "Filter",
        "description": "",
        "if_": "all",
        "actions": [{"type": "DROP"}],
        "enabled": True,
    }
    kwargs.update(overrides)
    with pytest.raises(InvalidArgument) as info:
        clean_filter_spec(**kwargs)
    return info.value


def never(_: Any = None) -> float:
    raise AssertionError("random() must not be called")


# --- validation --------------------------------------------------------------------------


def test_constants() -> None:
    assert FILTERS_PER_DESTINATION == 10
    assert TITLE_MAX == 64


def test_clean_normalizes() -> None:
    s = clean_filter_spec(
        title="  Drop internal  ",
        description=None,
        if_="  type = 'track'  ",
        actions=[
            {"type": "allow_properties", "fields": {"properties": ["a", "a", "b"]}},
            {"type": "sample", "percent": 1, "path": "userId"},
        ],
        enabled=False,
    )
    assert s.title == "Drop internal"
    assert s.description == ""
    assert s.if_ == "type = 'track'"
    assert s.enabled is False
    # stored in run order, types upper-cased, duplicate names folded
    assert [a.type for a in s.actions] == [ActionType.SAMPLE, ActionType.ALLOW_PROPERTIES]
    assert s.actions[0].percent == 1.0
    assert s.actions[1].fields == (("properties", ("a", "b")),)


@pytest.mark.parametrize("title", ["", "   ", None])
def test_title_required(title: Any) -> None:
    err = invalid(title=title)
    assert err.field == "title"
    assert err.message == "title is required"


def test_title_too_long() -> None:
    assert spec(title="x" * TITLE_MAX).title == "x" * TITLE_MAX
    err = invalid(title="x" * (TITLE_MAX + 1))
    assert (err.field, err.message) == ("title", "title must be at most 64 characters")


def test_title_not_a_string() -> None:
    err = invalid(title=42)
    assert (err.field, err.message) == ("title", "title must be a string")


def test_description_too_long() -> None:
    err = invalid(description="d" * 501)
    assert (err.field, err.message) == ("description", "description must be at most 500 characters")


@pytest.mark.parametrize("if_", ["", "  ", None])
def test_if_required(if_: Any) -> None:
    err = invalid(if_=if_)
    assert (err.field, err.message) == (
        "if",
        'if is required: an FQL expression, or "all" to match every event',
    )


def test_if_not_a_string() -> None:
    err = invalid(if_=["type"])
    assert err.field == "if"
    assert "must be a string" in err.message


def test_if_syntax_error_has_position_and_caret() -> None:
    err = invalid(if_="type = 'track' and")
    assert err.field == "if"
    assert err.message == (
        "invalid FQL at position 18: unexpected end of expression\n"
        "  type = 'track' and\n"
        "                    ^"
    )


def test_if_syntax_error_caret_points_into_the_middle() -> None:
    err = invalid(if_="type = 'track' and # = 1")
    first, excerpt, caret = err.message.split("\n")
    assert first.startswith("invalid FQL at position 19: ")
    assert excerpt == "  type = 'track' and # = 1"
    assert caret.index("^") == excerpt.index("#")


def test_if_syntax_error_excerpt_of_a_long_expression_is_windowed() -> None:
    expression = " or ".join(f"event = 'e{i}'" for i in range(40)) + " or )"
    err = invalid(if_=expression)
    _first, excerpt, caret = err.message.split("\n")
    assert excerpt.startswith("  ...")
    assert len(excerpt) < 100
    assert excerpt[caret.index("^")] == ")"


def test_if_all_and_valid_fql_accepted() -> None:
    assert spec("all").if_ == "all"
    assert spec("length( userId ) < 1").if_ == "length( userId ) < 1"


@pytest.mark.parametrize("actions", [None, [], {}, "DROP", ()])
def test_actions_required(actions: Any) -> None:
    err = invalid(actions=actions)
    assert err.field == "actions"
    assert "non-empty list" in err.message


def test_action_must_be_object() -> None:
    err = invalid(actions=["DROP"])
    assert err.field == "actions[0]"


@pytest.mark.parametrize("kind", ["BLOCK", "", None, 3])
def test_unknown_action_type(kind: Any) -> None:
    err = invalid(actions=[{"type": "DROP"}, {"type": kind}])
    assert err.field == "actions[1].type"
    assert "DROP, DROP_PROPERTIES, ALLOW_PROPERTIES" in err.message


def test_duplicate_action_type() -> None:
    err = invalid(
        actions=[
            {"type": "DROP_PROPERTIES", "fields": {"properties": ["a"]}},
            {"type": "drop_properties", "fields": {"traits": ["b"]}},
        ]
    )
    assert err.field == "actions[1].type"
    assert "only one DROP_PROPERTIES action" in err.message


@pytest.mark.parametrize(
    "other",
    [
        {"type": "DROP_PROPERTIES", "fields": {"properties": ["a"]}},
        {"type": "ALLOW_PROPERTIES", "fields": {"properties": ["a"]}},
        {"type": "SAMPLE", "percent": 0.5},
    ],
)
def test_drop_cannot_be_combined(other: dict[str, Any]) -> None:
    err = invalid(actions=[{"type": "DROP"}, other])
    assert err.field == "actions"
    assert err.message.startswith(f"DROP cannot be combined with {other['type']}")
    assert "nothing left" in err.message


def test_key_of_another_action_type_is_refused_unless_null() -> None:
    err = invalid(actions=[{"type": "DROP", "percent": 0.5}])
    assert (err.field, err.message) == (
        "actions[0].percent",
        "actions[0].percent does not apply to a DROP action",
    )
    # the Public API's responses carry nulls for unused keys; they round-trip
    assert spec(actions=[{"type": "DROP", "fields": None, "percent": None}]).actions == (
        FilterAction(ActionType.DROP),
    )


@pytest.mark.parametrize("percent", [None, "0.5", True])
def test_sample_percent_required_number(percent: Any) -> None:
    err = invalid(actions=[{"type": "SAMPLE", "percent": percent}])
    assert err.field == "actions[0].percent"
    assert "fraction of matching events to keep" in err.message


@pytest.mark.parametrize(
    ("percent", "hint"),
    [(0, "use a DROP action"), (-0.1, ""), (1.5, "did you mean 0.015?"), (10, "did you mean 0.1?")],
)
def test_sample_percent_range(percent: float, hint: str) -> None:
    err = invalid(actions=[{"type": "SAMPLE", "percent": percent}])
    assert err.field == "actions[0].percent"
    assert "greater than 0 and at most 1" in err.message
    assert hint in err.message


def test_sample_percent_nan() -> None:
    err = invalid(actions=[{"type": "SAMPLE", "percent": float("nan")}])
    assert err.field == "actions[0].percent"


@pytest.mark.parametrize("path", ["all", "a..b", "user id", 7, "'userId'"])
def test_sample_path_must_be_a_field(path: Any) -> None:
    err = invalid(actions=[{"type": "SAMPLE", "percent": 0.5, "path": path}])
    assert err.field == "actions[0].path"
    assert "field path" in err.message


def test_sample_path_accepted() -> None:
    s = spec(actions=[{"type": "SAMPLE", "percent": 0.25, "path": "properties.user_id"}])
    assert s.actions[0] == FilterAction(ActionType.SAMPLE, percent=0.25, path="properties.user_id")
    assert spec(actions=[{"type": "SAMPLE", "percent": 0.25, "path": ""}]).actions[0].path is None


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        (None, "is required for DROP_PROPERTIES"),
        ({}, "is required for DROP_PROPERTIES"),
        (["email"], "is required for DROP_PROPERTIES"),
        ({"integrations": ["x"]}, "unknown object 'integrations'"),
        ({"properties": []}, "actions[0].fields.properties must be a non-empty list"),
        ({"properties": "email"}, "actions[0].fields.properties must be a non-empty list"),
        ({"traits": ["ok", ""]}, "actions[0].fields.traits[1] must be a non-empty string"),
        ({"traits": ["ok", 5]}, "actions[0].fields.traits[1] must be a non-empty string"),
        ({"": ["a..b"]}, "actions[0].fields[\"\"][0] 'a..b' has an empty segment"),
        ({"properties": ["x" * 257]}, "at most 256 characters"),
        ({"properties": [f"p{i}" for i in range(201)]}, "at most 200 are allowed"),
    ],
)
def test_fields_validation(fields: Any, needle: str) -> None:
    err = invalid(actions=[{"type": "DROP_PROPERTIES", "fields": fields}])
    assert err.field == "actions[0].fields"
    assert needle in err.message


@pytest.mark.parametrize("name", ["type", "messageId", "timestamp"])
def test_structural_top_level_fields_cannot_be_dropped(name: str) -> None:
    err = invalid(actions=[{"type": "DROP_PROPERTIES", "fields": {"": [name]}}])
    assert err.field == "actions[0].fields"
    assert f"{name} cannot be dropped" in err.message


def test_enabled_must_be_bool() -> None:
    err = invalid(enabled="yes")
    assert (err.field, err.message) == ("enabled", "enabled must be true or false")


def test_json_round_trip() -> None:
    data = {
        "title": "Mixed",
        "description": "d",
        "if": "type = 'track'",
        "actions": [
            {"type": "SAMPLE", "percent": 0.5, "path": "userId"},
            {"type": "DROP_PROPERTIES", "fields": {"": ["userId"], "properties": ["email"]}},
            {"type": "ALLOW_PROPERTIES", "fields": {"traits": ["plan"]}},
        ],
        "enabled": True,
    }
    s = filter_spec_from_json(data)
    assert filter_spec_to_json(s) == data
    assert filter_spec_from_json(filter_spec_to_json(s)) == s
    assert filter_spec_to_json(spec(actions=[{"type": "SAMPLE", "percent": 0.1}]))["actions"] == [
        {"type": "SAMPLE", "percent": 0.1}
    ]


# --- applying -----------------------------------------------------------------------------


def test_no_filters_passes_the_event_through() -> None:
    cf = CompiledFilters([])
    assert not cf
    outcome = cf.apply(EVENT)
    assert outcome.event is EVENT
    assert (outcome.dropped, outcome.dropped_by, outcome.reason, outcome.applied) == (
        False,
        None,
        None,
        (),
    )


def test_drop_matching_events_only() -> None:
    cf = CompiledFilters([spec("event = 'Order Completed'", title="No orders")])
    outcome = cf.apply(EVENT)
    assert outcome.event is None
    assert outcome.dropped
    assert (outcome.dropped_by, outcome.reason) == ("No orders", REASON_FILTERED)
    other = {**EVENT, "event": "Signed Up"}
    assert cf.apply(other).event is other


def test_disabled_filters_are_ignored() -> None:
    cf = CompiledFilters([spec("all", enabled=False)])
    assert not cf
    assert cf.apply(EVENT).event is EVENT


def test_docs_only_send_events_with_user_id() -> None:
    s = filter_spec_from_json(
        {
            "title": "Don't send event if userId is null",
            "description": "Drop event if there is no userId on the request",
            "if": "length( userId ) < 1",
            "actions": [{"type": "DROP"}],
            "enabled": True,
        }
    )
    cf = CompiledFilters([s])
    assert cf.apply(EVENT).event is EVENT
    for missing in ({"userId": None}, {"userId": ""}):
        outcome = cf.apply({**EVENT, **missing})
        assert outcome.reason == REASON_FILTERED
    no_key = {k: v for k, v in EVENT.items() if k != "userId"}
    assert cf.apply(no_key).dropped


def test_docs_remove_user_id_from_payload() -> None:
    s = filter_spec_from_json(
        {
            "title": "Don't send userId at all",
            "description": "Drop userId on all requests",
            "if": "all",
            "actions": [{"type": "DROP_PROPERTIES", "fields": {"": ["userId"]}}],
            "enabled": True,
        }
    )
    outcome = CompiledFilters([s]).apply(EVENT)
    assert outcome.event is not None
    assert "userId" not in outcome.event
    assert outcome.event["anonymousId"] == "a-1"
    assert outcome.applied == ("Don't send userId at all",)


@pytest.mark.parametrize(
    "if_",
    [
        "match(traits.email, '*@segment.com')",
        "contains(traits.email, '@segment.com')",
        "event = 'Order Completed' and contains(properties.email, '@segment.com')",
    ],
)
def test_docs_drop_internal_emails(if_: str) -> None:
    cf = CompiledFilters([spec(if_, title="Internal")])
    internal = copy.deepcopy(EVENT)
    internal["traits"]["email"] = internal["properties"]["email"] = "ops@segment.com"
    assert cf.apply(internal).dropped_by == "Internal"
    assert not cf.apply(EVENT).dropped
    # contains()/match() on a missing email are false, not errors
    assert not cf.apply({"type": "track", "event": "Order Completed"}).dropped


def test_docs_sample_video_heartbeats() -> None:
    s = spec(
        "event = 'Video Content Playing'",
        [{"type": "SAMPLE", "percent": 0.1}],
        title="Heartbeats",
    )
    heartbeat = {"type": "track", "event": "Video Content Playing"}
    assert CompiledFilters([s], random=lambda: 0.05).apply(heartbeat).event is heartbeat
    outcome = CompiledFilters([s], random=lambda: 0.1).apply(heartbeat)
    assert (outcome.event, outcome.dropped_by, outcome.reason) == (
        None,
        "Heartbeats",
        REASON_SAMPLED,
    )
    # events the filter does not match are never sampled
    assert CompiledFilters([s], random=never).apply(EVENT).event is EVENT


def test_sampling_by_path_is_deterministic_per_value() -> None:
    s = spec(actions=[{"type": "SAMPLE", "percent": 0.3, "path": "userId"}], title="30%")
    cf = CompiledFilters([s], random=never)
    decisions = {}
    for i in range(1000):
        user = f"user-{i}"
        first = cf.apply({"type": "track", "userId": user, "event": "A"}).dropped
        again = cf.apply({"type": "page", "userId": user, "name": "B"}).dropped
        assert first == again
        decisions[user] = first
    kept = sum(not dropped for dropped in decisions.values())
    assert 250 <= kept <= 350
    # a fresh compile decides the same
    assert all(
        CompiledFilters([s]).apply({"userId": u}).dropped == d
        for u, d in itertools.islice(decisions.items(), 50)
    )


def test_sampling_by_path_differs_between_filters() -> None:
    def kept(title: str) -> set[int]:
        s = spec(actions=[{"type": "SAMPLE", "percent": 0.5, "path": "userId"}], title=title)
        cf = CompiledFilters([s])
        return {i for i in range(200) if not cf.apply({"userId": i}).dropped}

    assert kept("a") != kept("b")


def test_sampling_by_nested_path_and_missing_value_falls_back_to_random() -> None:
    s = spec(actions=[{"type": "SAMPLE", "percent": 0.5, "path": "properties.user_id"}])
    calls: list[int] = []

    def rnd() -> float:
        calls.append(1)
        return 0.99

    cf = CompiledFilters([s], random=rnd)
    cf.apply({"properties": {"user_id": "x"}})
    assert calls == []
    assert cf.apply({"properties": {}}).reason == REASON_SAMPLED
    assert cf.apply({"properties": "oops"}).reason == REASON_SAMPLED
    assert len(calls) == 2


def test_sample_percent_one_keeps_everything() -> None:
    s = spec(actions=[{"type": "SAMPLE", "percent": 1, "path": "userId"}])
    cf = CompiledFilters([s], random=lambda: 0.999999)
    assert all(not cf.apply({"userId": i}).dropped for i in range(200))
    assert not cf.apply({}).dropped


def test_drop_properties_in_each_object() -> None:
    s = spec(
        actions=[
            {
                "type": "DROP_PROPERTIES",
                "fields": {
                    "": ["anonymousId", "nope"],
                    "properties": ["email", "address.zip"],
                    "traits": ["email"],
                    "context": ["ip", "library.name"],
                },
            }
        ],
        title="PII",
    )
    event = CompiledFilters([s]).apply(EVENT).event
    assert event is not None
    assert "anonymousId" not in event
    assert event["properties"]["address"] == {"city": "Paris"}
    assert "email" not in event["properties"] and "email" not in event["traits"]
    assert event["context"] == {"library": {}, "traits": {"k": 1}}
    assert event["userId"] == "u-1"


def test_drop_properties_from_every_object_of_an_array() -> None:
    s = spec(actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["products.price"]}}])
    event = CompiledFilters([s]).apply(EVENT).event
    assert event is not None
    assert event["properties"]["products"] == [
        {"sku": "A", "name": "Pen"},
        {"sku": "B"},
        "not-an-object",
    ]


def test_drop_whole_array() -> None:
    s = spec(actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["products"]}}])
    event = CompiledFilters([s]).apply(EVENT).event
    assert event is not None
    assert "products" not in event["properties"]


def test_drop_properties_that_are_absent_changes_nothing() -> None:
    s = spec(actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["nope", "total.x"]}}])
    outcome = CompiledFilters([s]).apply(EVENT)
    assert outcome.event == EVENT
    assert outcome.applied == ()


def test_allow_properties_keeps_only_listed_fields_of_listed_objects() -> None:
    s = spec(
        actions=[
            {
                "type": "ALLOW_PROPERTIES",
                "fields": {"properties": ["total", "address.city"], "traits": ["plan"]},
            }
        ],
        title="Allow",
    )
    outcome = CompiledFilters([s]).apply(EVENT)
    event = outcome.event
    assert event is not None
    assert event["properties"] == {"total": 30.5, "address": {"city": "Paris"}}
    assert event["traits"] == {"plan": "pro"}
    # objects the action does not name, and the top level, are untouched
    assert event["context"] == EVENT["context"]
    assert event["userId"] == "u-1"
    assert outcome.applied == ("Allow",)


def test_allow_properties_through_an_array() -> None:
    s = spec(actions=[{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["products.sku"]}}])
    event = CompiledFilters([s]).apply(EVENT).event
    assert event is not None
    # non-object items hold nothing allowed and go
    assert event["properties"] == {"products": [{"sku": "A"}, {"sku": "B"}]}


def test_allow_properties_path_through_a_scalar_removes_it() -> None:
    s = spec(actions=[{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["total.x", "email"]}}])
    event = CompiledFilters([s]).apply(EVENT).event
    assert event is not None
    assert event["properties"] == {"email": "ada@example.com"}
    weird = CompiledFilters([s]).apply({"type": "track", "properties": "text"}).event
    assert weird == {"type": "track", "properties": {}}


def test_allow_top_level_keeps_structural_fields() -> None:
    s = spec(
        actions=[
            {
                "type": "ALLOW_PROPERTIES",
                "fields": {"": ["event", "userId"], "properties": ["total"]},
            }
        ]
    )
    event = CompiledFilters([s]).apply(EVENT).event
    assert event == {
        "type": "track",
        "messageId": "msg-1",
        "timestamp": "2024-01-01T00:00:00Z",
        "event": "Order Completed",
        "userId": "u-1",
        # listed under its own object in the same action: kept, pruned
        "properties": {"total": 30.5},
    }


def test_allow_whole_object_wins_over_its_fields() -> None:
    s = spec(
        actions=[
            {
                "type": "ALLOW_PROPERTIES",
                "fields": {"": ["properties"], "properties": ["total"]},
            }
        ]
    )
    event = CompiledFilters([s]).apply(EVENT).event
    assert event is not None
    assert event["properties"] == EVENT["properties"]
    assert set(event) == {"type", "messageId", "timestamp", "properties"}


def test_input_event_is_never_mutated() -> None:
    before = copy.deepcopy(EVENT)
    specs = [
        spec(actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["products.price"]}}]),
        spec(actions=[{"type": "ALLOW_PROPERTIES", "fields": {"": ["properties"]}}], title="B"),
    ]
    cf = CompiledFilters(specs)
    outcome = cf.apply(EVENT)
    cf.explain(EVENT)
    assert before == EVENT
    assert outcome.event is not None
    outcome.event["properties"]["products"][0]["sku"] = "changed"
    assert before == EVENT


# --- order -------------------------------------------------------------------------------


def test_drop_properties_runs_before_allow_properties_regardless_of_filter_order() -> None:
    allow = spec(
        actions=[{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["email", "total"]}}],
        title="Allow",
    )
    drop = spec(
        actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}], title="Drop"
    )
    for specs in ([allow, drop], [drop, allow]):
        outcome = CompiledFilters(specs).apply(EVENT)
        assert outcome.event is not None
        assert outcome.event["properties"] == {"total": 30.5}
    assert CompiledFilters([allow, drop]).apply(EVENT).applied == ("Drop", "Allow")


def test_sample_runs_before_drop() -> None:
    drop = spec("all", title="Drop all")
    sample = spec(actions=[{"type": "SAMPLE", "percent": 0.5}], title="Sample")
    outcome = CompiledFilters([drop, sample], random=lambda: 0.9).apply(EVENT)
    assert (outcome.dropped_by, outcome.reason) == ("Sample", REASON_SAMPLED)
    outcome = CompiledFilters([drop, sample], random=lambda: 0.1).apply(EVENT)
    assert (outcome.dropped_by, outcome.reason) == ("Drop all", REASON_FILTERED)


def test_drop_runs_before_property_actions() -> None:
    props = spec(actions=[{"type": "DROP_PROPERTIES", "fields": {"": ["userId"]}}], title="P")
    drop = spec("event = 'Order Completed'", title="D")
    outcome = CompiledFilters([props, drop]).apply(EVENT)
    assert (outcome.dropped_by, outcome.applied) == ("D", ())


def test_if_is_evaluated_on_the_incoming_event() -> None:
    # removing the email must not stop the later "drop internal" filter from matching
    strip = spec(
        actions=[{"type": "DROP_PROPERTIES", "fields": {"traits": ["email"]}}], title="Strip"
    )
    internal = spec("contains(traits.email, '@example.com')", title="Internal")
    assert CompiledFilters([strip, internal]).apply(EVENT).dropped_by == "Internal"
    # and an allow-list that removes traits.plan does not hide it from a later filter
    allow = spec(actions=[{"type": "ALLOW_PROPERTIES", "fields": {"traits": ["email"]}}])
    prune = spec(
        "traits.plan = 'pro'",
        [{"type": "DROP_PROPERTIES", "fields": {"properties": ["total"]}}],
        title="Pro",
    )
    event = CompiledFilters([allow, prune]).apply(EVENT).event
    assert event is not None
    assert "total" not in event["properties"]


def test_conflicting_only_send_filters_send_nothing() -> None:
    only_signups = spec("event != 'User Signed Up'", title="Only Signed Up")
    only_demos = spec("event != 'Demo Requested'", title="Only Demo")
    cf = CompiledFilters([only_signups, only_demos])
    for name in ("User Signed Up", "Demo Requested", "Order Completed"):
        assert cf.apply({"type": "track", "event": name}).dropped
    # one "only send" filter with both names is the way to send both
    both = CompiledFilters(
        [spec("!(event in ['User Signed Up', 'Demo Requested'])", title="Only both")]
    )
    assert not both.apply({"type": "track", "event": "Demo Requested"}).dropped
    assert both.apply({"type": "track", "event": "Order Completed"}).dropped


# --- errors fail closed ---------------------------------------------------------------------


def test_evaluation_error_drops_the_event(caplog: pytest.LogCaptureFixture) -> None:
    # length() of an object is an FQL evaluation error
    broken = spec(
        "length(properties) > 1",
        [{"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}],
        title="Broken",
    )
    cf = CompiledFilters([spec("event = 'nothing'", title="Fine"), broken], random=never)
    with caplog.at_level("WARNING", logger="connections.rules.filtering.apply"):
        outcome = cf.apply(EVENT)
    assert (outcome.event, outcome.dropped_by, outcome.reason) == (None, "Broken", REASON_ERROR)
    assert "length() is not defined for object" in caplog.text
    # the same filter on an event where it evaluates cleanly behaves normally
    fine = cf.apply({"type": "track", "properties": None})
    assert not fine.dropped


def test_evaluation_error_beats_sampling() -> None:
    cf = CompiledFilters(
        [
            spec(actions=[{"type": "SAMPLE", "percent": 0.5}], title="S"),
            spec("number(properties.email) > 1", title="Bad"),
        ],
        random=never,
    )
    assert cf.apply(EVENT).reason == REASON_ERROR


def test_stored_filter_with_invalid_fql_drops_everything() -> None:
    bad = FilterSpec("Bad", "", "type = ", (FilterAction(ActionType.DROP),), True)
    outcome = CompiledFilters([bad]).apply(EVENT)
    assert (outcome.dropped_by, outcome.reason) == ("Bad", REASON_ERROR)


# --- explain --------------------------------------------------------------------------------


def test_explain_reports_each_filter_in_order() -> None:
    specs = [
        spec(
            actions=[{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["total"]}}],
            title="Allow",
        ),
        spec("event = 'nothing'", title="No match"),
        spec(
            actions=[{"type": "DROP_PROPERTIES", "fields": {"": ["userId", "nope"]}}],
            title="Drop userId",
        ),
        spec("all", title="Off", enabled=False),
        spec(actions=[{"type": "SAMPLE", "percent": 0.5}], title="Half"),
    ]
    rows = CompiledFilters(specs, random=lambda: 0.1).explain(EVENT)
    assert [(r["title"], r["enabled"], r["matched"], r["effect"]) for r in rows] == [
        ("Allow", True, True, "allowed only [properties.total]"),
        ("No match", True, False, "no match"),
        ("Drop userId", True, True, "removed properties [userId]"),
        ("Off", False, True, "disabled"),
        ("Half", True, True, "kept by sample"),
    ]
    # each row: the event after that filter's last action ran (drop-properties runs
    # before allow-properties, so "Allow" shows both)
    assert rows[0]["event"]["properties"] == {"total": 30.5}
    assert "userId" not in rows[0]["event"]
    assert "userId" not in rows[2]["event"]
    assert rows[2]["event"]["properties"] == EVENT["properties"]
    assert rows[4]["event"] == EVENT
    assert CompiledFilters(specs, random=lambda: 0.1).apply(EVENT).event == rows[0]["event"]


def test_explain_drop_and_not_reached() -> None:
    specs = [
        spec("all", [{"type": "SAMPLE", "percent": 0.5}], title="Half"),
        spec(
            actions=[{"type": "DROP_PROPERTIES", "fields": {"": ["userId"]}}],
            title="Drop userId",
        ),
    ]
    rows = CompiledFilters(specs, random=lambda: 0.9).explain(EVENT)
    assert [(r["effect"], r["event"]) for r in rows] == [
        ("sampled out", None),
        ("not reached: event dropped by 'Half'", None),
    ]
    rows = CompiledFilters([spec("all", title="Drop")]).explain(EVENT)
    assert rows == [
        {"title": "Drop", "enabled": True, "matched": True, "effect": "dropped", "event": None}
    ]


def test_explain_errors() -> None:
    specs = [
        spec("length(traits) > 0", title="Broken"),
        spec("length(traits) > 0", title="Off", enabled=False),
        spec("all", [{"type": "DROP_PROPERTIES", "fields": {"": ["userId"]}}], title="Later"),
    ]
    rows = CompiledFilters(specs).explain(EVENT)
    assert rows[0]["matched"] is False
    assert rows[0]["effect"] == "error: length() is not defined for object (event dropped)"
    assert rows[0]["event"] is None
    assert rows[1]["effect"] == "disabled (error: length() is not defined for object)"
    assert rows[2]["matched"] is True
    assert rows[2]["effect"] == "not reached: event dropped by 'Broken'"
    assert rows[2]["event"] is None


def test_explain_multiple_actions_of_one_filter() -> None:
    s = spec(
        actions=[
            {"type": "SAMPLE", "percent": 0.5, "path": "userId"},
            {"type": "DROP_PROPERTIES", "fields": {"properties": ["products.price"]}},
        ],
        title="Both",
    )
    users = ({**EVENT, "userId": f"u{i}"} for i in range(100))
    kept_event = next(e for e in users if not CompiledFilters([s]).apply(e).dropped)
    (row,) = CompiledFilters([s]).explain(kept_event)
    assert row["effect"] == "kept by sample; removed properties [properties.products[].price]"
    assert row["event"]["properties"]["products"][0] == {"sku": "A", "name": "Pen"}
