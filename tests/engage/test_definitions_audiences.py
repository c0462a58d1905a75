"""Audience definitions (engage.definitions): the JSON shape and the rules of
reference engage.md §12.2, references, cycles, real-time vs batch. No database."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from engage.definitions import (
    AUDIENCE_SCHEMA,
    BATCH,
    CYCLE_MESSAGE,
    REALTIME,
    TRAIT_SCHEMA,
    check_audience,
    classify,
    cycle_errors,
    openapi_components,
    predicates,
    references,
    validate_audience,
)


def event(name: str = "Order Completed", **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "kind": "event",
        "event": name,
        "where": None,
        "window": None,
        "count": {"cmp": "gte", "value": 1},
    }
    node.update(extra)
    return node


def within(value: int = 30, unit: str = "days", relative_to: str = "now") -> dict[str, Any]:
    return {"type": "within", "value": value, "unit": unit, "relative_to": relative_to}


def between(start: int, end: int, unit: str = "days") -> dict[str, Any]:
    return {
        "type": "between",
        "start": {"value": start, "unit": unit},
        "end": {"value": end, "unit": unit},
    }


def trait(name: str, cmp: str, value: Any) -> dict[str, Any]:
    return {"kind": "trait", "trait": name, "cmp": cmp, "value": value}


def prop(path: str, cmp: str, value: Any, kind: str = "property") -> dict[str, Any]:
    return {"kind": kind, "path": path, "cmp": cmp, "value": value}


def audience(key: str, member: bool = True) -> dict[str, Any]:
    return {"kind": "audience", "audience_key": key, "member": member}


def definition(root: Any, type_: str = "users", **extra: Any) -> dict[str, Any]:
    doc = {
        "version": 1,
        "type": type_,
        "include_anonymous": False,
        "include_historical": True,
        "root": root,
    }
    doc.update(extra)
    return doc


def errors_of(doc: Any) -> dict[str, str]:
    return {e.path: e.message for e in validate_audience(doc)}


VIEWED_NOT_BOUGHT = definition(
    {
        "op": "and",
        "args": [
            event("Product Viewed", where=prop("price", "gt", 100), window=within(30)),
            {"op": "not", "arg": event("Order Completed", window=within(30))},
        ],
    }
)
CART_FUNNEL = definition(
    event(
        "Product Added",
        where=event(
            "Order Completed",
            window=within(1, relative_to="parent"),
            count={"cmp": "eq", "value": 0},
        ),
        window=within(7),
    )
)


@pytest.mark.parametrize(
    "doc",
    [
        VIEWED_NOT_BOUGHT,
        CART_FUNNEL,
        definition(event("Page Viewed", window=between(30, 90))),
        definition({"op": "or", "args": [trait("plan", "eq", "pro")]}),
        definition({"op": "none", "arg": event("Logged In", window=within(30))}, type_="accounts"),
        definition(
            {
                "op": "and",
                "args": [
                    trait("industry", "in", ["Software", "SaaS"]),
                    {"op": "any", "arg": trait("role", "eq", "Admin")},
                    {"op": "all", "arg": {"op": "not", "arg": audience("churned")}},
                ],
            },
            type_="accounts",
        ),
        definition(trait("renewal_at", "within_next", {"value": 7, "unit": "days"})),
        definition(trait("signed_up_at", "before_date", "2024-05-01T00:00:00Z")),
        definition(trait("email", "not_exists", None)),
        definition(
            event(
                "Shoes Bought",
                where={
                    "op": "and",
                    "args": [
                        prop("price", "gte", {"ref": "trait", "name": "avg_spend"}),
                        prop("page.url", "contains_any", ["pricing", "plans"], kind="context"),
                        event(
                            "Shoes Returned",
                            where=prop(
                                "product_id", "eq", {"ref": "parent_property", "path": "id"}
                            ),
                            window=within(5, relative_to="parent"),
                            exclude_sources=["android"],
                        ),
                    ],
                },
                window=within(30, "hours"),
            )
        ),
    ],
)
def test_valid_definitions_have_no_errors(doc: dict[str, Any]) -> None:
    assert validate_audience(doc) == []
    jsonschema.Draft202012Validator(AUDIENCE_SCHEMA).validate(doc)


def test_every_shape_error_is_reported_at_its_place() -> None:
    doc = {
        "version": 2,
        "type": "people",
        "include_historical": "yes",
        "root": {
            "op": "and",
            "args": [
                event("", window={"type": "within", "value": 0, "unit": "weeks"}, extra=1),
                trait("plan", "in", "pro"),
                event(count={"cmp": "gt", "value": -1}),
                {"kind": "segment"},
                {"op": "xor", "args": []},
                trait("plan", "eq", ["a"]),
                trait("seen", "within_last", 3),
                "trait('x') = 1",
            ],
        },
    }
    assert errors_of(doc) == {
        "/version": "must be 1",
        "/type": "must be one of 'users', 'accounts', not 'people'",
        "/include_anonymous": "is required",
        "/include_historical": "must be true or false",
        "/root/args/0/event": "must not be empty",
        "/root/args/0/extra": "unknown key; allowed: count, event, exclude_sources, kind, "
        "where, window",
        "/root/args/0/window/relative_to": "is required",
        "/root/args/0/window/unit": "must be one of 'hours', 'days', not 'weeks'",
        "/root/args/0/window/value": "must be greater than 0",
        "/root/args/1/value": "must be a list",
        "/root/args/2/count/cmp": "a count is compared with 'gte' (at least), 'eq' (exactly) "
        "or 'lte' (at most)",
        "/root/args/2/count/value": "must be at least 0",
        "/root/args/3/kind": "a condition is an 'event', 'trait' or 'audience' (or a group "
        "with 'op')",
        "/root/args/4/op": "must be one of 'and', 'or', 'not', 'any', 'all', 'none', not 'xor'",
        "/root/args/5/value": "must be a string or a number or true or false",
        "/root/args/6/value": "must be an object",
        "/root/args/7": "must be an object",
    }


def test_a_missing_root_and_an_empty_group() -> None:
    assert errors_of(
        {"version": 1, "type": "users", "include_anonymous": True, "include_historical": True}
    ) == {"/root": "is required"}
    assert errors_of(definition({"op": "and", "args": []})) == {
        "/root/args": "needs at least 1 item(s)"
    }
    assert errors_of(definition({"op": "not"})) == {"/root/arg": "is required"}
    assert errors_of(definition({})) == {"/root/kind": "is required"}
    assert errors_of([]) == {"": "must be an object"}


def test_where_holds_only_properties_context_and_a_funnel_step() -> None:
    doc = definition(
        event(
            where={
                "op": "or",
                "args": [
                    trait("plan", "eq", "pro"),
                    audience("vip"),
                    {"op": "any", "arg": prop("a", "exists", None)},
                    event("Order Refunded", window=within(3)),
                    event("Order Shipped"),
                ],
            }
        )
    )
    kinds = "where holds property or context conditions, or a following event (a funnel step)"
    step = (
        "an event inside where is a funnel step: its window is 'within' relative to the "
        "parent event ('relative_to': 'parent')"
    )
    assert errors_of(doc) == {
        "/root/where/args/0/kind": kinds,
        "/root/where/args/1/kind": kinds,
        "/root/where/args/2/op": "must be one of 'and', 'or', 'not', not 'any'",
        "/root/where/args/3/window/relative_to": step,
        "/root/where/args/4/window": "must be an object",
    }


def test_a_parent_relative_window_only_in_a_funnel_step() -> None:
    assert errors_of(definition(event(window=within(1, relative_to="parent")))) == {
        "/root/window/relative_to": "a window relative to the parent event is for an event "
        "inside another event's where (a funnel step)"
    }


def test_parent_property_references_only_in_a_funnel_steps_where() -> None:
    ref = {"ref": "parent_property", "path": "sku"}
    doc = definition(event(where=prop("sku", "eq", ref)))
    assert errors_of(doc) == {
        "/root/where/value": "a parent property reference is for a condition in the where "
        "of a following event (a funnel step)"
    }
    # Traits take literal values only.
    assert errors_of(definition(trait("spend", "gt", {"ref": "trait", "name": "avg"}))) == {
        "/root/value": "must be a string or a number or true or false"
    }


def test_list_operators_take_lists_and_others_do_not() -> None:
    doc = definition(
        {
            "op": "and",
            "args": [
                trait("plan", "in", []),
                trait("plan", "contains_any", [{"a": 1}]),
                prop_event := event(where=prop("tags", "in", "a,b")),
                trait("plan", "contains", 5),
                trait("plan", "exists", True),
            ],
        }
    )
    del prop_event
    assert errors_of(doc) == {
        "/root/args/0/value": "needs at least 1 item(s)",
        "/root/args/1/value/0": "must be a string or a number or true or false",
        "/root/args/2/where/value": "must be a list",
        "/root/args/3/value": "must be a string",
        "/root/args/4/value": "must be null",
    }


def test_time_operators_only_on_traits_with_dates_and_durations() -> None:
    doc = definition(
        {
            "op": "and",
            "args": [
                event(where=prop("at", "before_date", "2024-01-01")),
                trait("signed_up_at", "after_date", "last tuesday"),
                trait("renewal_at", "within_last", {"value": 0, "unit": "days"}),
            ],
        }
    )
    assert errors_of(doc) == {
        "/root/args/0/where/cmp": "time operators apply to traits only",
        "/root/args/1/value": "must be an ISO 8601 date or time, e.g. '2024-05-01T00:00:00Z'",
        "/root/args/2/value/value": "must be greater than 0",
    }


def test_quantifiers_only_in_accounts_audiences_and_not_nested() -> None:
    user_doc = definition({"op": "any", "arg": trait("role", "eq", "Admin")})
    assert errors_of(user_doc) == {
        "/root/op": "ANY, ALL and NONE are for accounts audiences ('type': 'accounts')"
    }
    nested = definition(
        {"op": "all", "arg": {"op": "none", "arg": trait("role", "eq", "Admin")}},
        type_="accounts",
    )
    assert errors_of(nested) == {
        "/root/arg/op": "ANY, ALL and NONE do not nest: the condition under one is about a "
        "single user"
    }


def test_account_audiences_put_events_under_a_quantifier() -> None:
    doc = definition(
        {"op": "and", "args": [event("Logged In"), trait("plan", "eq", "business")]},
        type_="accounts",
    )
    assert errors_of(doc) == {
        "/root/args/0": "in an accounts audience an event condition goes under ANY, ALL or "
        "NONE (users perform events)"
    }


def test_between_windows_start_before_they_end() -> None:
    assert errors_of(definition(event(window=between(90, 30)))) == {
        "/root/window": "an 'in between' window starts nearer to now than it ends: 'start' "
        "must be less than 'end'"
    }
    # Compared in hours: 48 hours ago to 2 days ago is empty.
    same = event(
        window={
            "type": "between",
            "start": {"value": 48, "unit": "hours"},
            "end": {"value": 2, "unit": "days"},
        }
    )
    assert list(errors_of(definition(same))) == ["/root/window"]
    assert errors_of(definition(event(window=between(0, 3)))) == {
        "/root/window/start/value": "must be greater than 0"
    }


def test_at_most_fifty_conditions_counting_where_contents() -> None:
    fifty = definition({"op": "or", "args": [trait(f"t{i}", "exists", None) for i in range(50)]})
    assert validate_audience(fifty) == []
    assert predicates(fifty) == 50
    over = copy.deepcopy(fifty)
    over["root"]["args"][0] = event(where=prop("price", "gt", 1))
    assert predicates(over) == 51
    assert errors_of(over) == {"/root": "an audience has at most 50 conditions; this one has 51"}


def test_numbers_are_finite_and_keys_are_keys() -> None:
    doc = definition(
        {
            "op": "and",
            "args": [
                trait("score", "gt", float("nan")),
                trait("score", "in", [1, float("inf")]),
                audience("Big Spenders"),
            ],
        }
    )
    errors = errors_of(doc)
    assert errors["/root/args/0/value"] == "must be a finite number"
    assert errors["/root/args/1/value/1"] == "must be a finite number"
    assert errors["/root/args/2/audience_key"].startswith("a key is snake_case")
    assert "'big_spenders'" in errors["/root/args/2/audience_key"]


def test_whole_numbers_are_integers_and_strings_hold_no_nul() -> None:
    doc = definition(
        {
            "op": "and",
            "args": [
                event(window=within(1.0), count={"cmp": "gte", "value": 1.0}),
                trait("na\x00me", "eq", "x\x00"),
            ],
        }
    )
    assert errors_of(doc) == {
        "/root/args/0/window/value": "must be an integer",
        "/root/args/0/count/value": "must be an integer",
        "/root/args/1/trait": "must not contain the NUL character",
        "/root/args/1/value": "must not contain the NUL character",
    }


def test_a_hostile_depth_is_refused_before_it_is_walked() -> None:
    node: dict[str, Any] = trait("plan", "exists", None)
    for _ in range(5000):
        node = {"op": "not", "arg": node}
    assert errors_of(definition(node)) == {"": "nests deeper than 40 levels"}


def test_history_may_be_left_out_only_by_a_real_time_audience() -> None:
    realtime = copy.deepcopy(VIEWED_NOT_BOUGHT)
    realtime["include_historical"] = False
    assert validate_audience(realtime) == []
    funnel = copy.deepcopy(CART_FUNNEL)
    funnel["include_historical"] = False
    message = (
        "a batch audience always includes historical data; only a real-time audience can "
        "leave it out"
    )
    assert errors_of(funnel) == {"/include_historical": message}
    # The caller's classification (batch through a referenced SQL trait) decides too.
    assert errors_of(realtime) == {}
    assert {e.path for e in validate_audience(realtime, mode=BATCH)} == {"/include_historical"}


def test_references_lists_audiences_and_traits_by_level() -> None:
    doc = definition(
        {
            "op": "and",
            "args": [
                trait("industry", "eq", "Software"),
                audience("enterprise_accounts"),
                {
                    "op": "any",
                    "arg": {
                        "op": "or",
                        "args": [
                            audience("admins"),
                            trait("role", "eq", "Admin"),
                            event(where=prop("price", "gt", {"ref": "trait", "name": "avg"})),
                        ],
                    },
                },
            ],
        },
        type_="accounts",
    )
    found = references(doc)
    assert found.audiences == {"enterprise_accounts", "admins"}
    assert found.traits == {"industry", "role", "avg"}
    assert found.account_audiences == {"enterprise_accounts"}
    assert found.account_traits == {"industry"}
    users = references(VIEWED_NOT_BOUGHT)
    assert users == (frozenset(), frozenset(), frozenset(), frozenset())


def test_cycles_are_rejected_with_the_documented_message() -> None:
    stored = {"x": {"y"}, "y": {"z"}, "z": set(), "loop_a": {"loop_b"}, "loop_b": {"loop_a"}}

    def depends_on(key: str) -> set[str]:
        return stored.get(key, set())

    # Editing z to reference x: x -> y -> z.
    doc = definition({"op": "or", "args": [audience("x"), audience("other"), audience("loop_a")]})
    errors = cycle_errors("z", doc, depends_on)
    assert [(e.path, e.message, e.code) for e in errors] == [
        ("/root/args/0/audience_key", CYCLE_MESSAGE, "cycle")
    ]
    assert CYCLE_MESSAGE == "The audience would create a cycle by referencing another audience"
    # A self reference, and a stored cycle that does not involve us terminates.
    assert [e.path for e in cycle_errors("me", definition(audience("me")), depends_on)] == [
        "/root/audience_key"
    ]
    assert cycle_errors("x", definition(audience("loop_a")), depends_on) == []
    assert cycle_errors("new", doc, depends_on) == []


def test_classify_real_time_by_default() -> None:
    assert classify(VIEWED_NOT_BOUGHT) == (REALTIME, ())
    assert classify(definition(trait("at", "before_date", "2024-05-01T00:00:00+02:00"))).mode == (
        REALTIME
    )


@pytest.mark.parametrize(
    ("doc", "path", "code"),
    [
        (CART_FUNNEL, "/root/where/window", "funnel"),
        (definition(event(window=between(30, 90))), "/root/window", "between"),
        (
            definition({"op": "any", "arg": trait("role", "eq", "Admin")}, type_="accounts"),
            "/type",
            "accounts",
        ),
        (
            definition(event(where=prop("price", "gt", {"ref": "trait", "name": "avg"}))),
            "/root/where/value",
            "reference",
        ),
        (definition(trait("at", "before_date", "2024-05-01T10:00:00")), "/root/value", "timezone"),
        (definition(trait("at", "after_date", "2024-05-01")), "/root/value", "timezone"),
        (definition(trait("ltv", "gt", 100)), "/root/trait", "batch_trait"),
        (definition(audience("weekly_batch")), "/root/audience_key", "batch_audience"),
    ],
)
def test_classify_batch_with_the_reason(doc: dict[str, Any], path: str, code: str) -> None:
    result = classify(
        doc,
        is_batch_trait=lambda name: name == "ltv",
        is_batch_audience=lambda key: key == "weekly_batch",
    )
    assert result.mode == BATCH
    assert [(r.path, r.code) for r in result.reasons] == [(path, code)]


def test_a_batch_trait_used_as_a_reference_value_is_a_reason_too() -> None:
    doc = definition(event(where=prop("price", "gt", {"ref": "trait", "name": "ltv"})))
    reasons = classify(doc, is_batch_trait=lambda name: name == "ltv").reasons
    assert [r.code for r in reasons] == ["reference", "batch_trait"]


def test_schemas_are_valid_and_convert_to_openapi_components() -> None:
    jsonschema.Draft202012Validator.check_schema(AUDIENCE_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(TRAIT_SCHEMA)
    components = openapi_components("Audience", AUDIENCE_SCHEMA)
    assert set(components) >= {
        "Audience",
        "AudienceNode",
        "AudiencePnode",
        "AudienceEvent",
        "AudienceChildEvent",
        "AudienceTrait",
        "AudienceRef",
    }
    text = repr(components)
    for keyword in ("$defs", "'if'", "'then'", "'const'", "errorMessage", "#/$defs/"):
        assert keyword not in text
    assert components["Audience"]["properties"]["root"] == {
        "$ref": "#/components/schemas/AudienceNode"
    }
    window = components["AudienceEvent"]["properties"]["where"]
    assert window == {"allOf": [{"$ref": "#/components/schemas/AudiencePnode"}], "nullable": True}


def test_check_audience_classifies_validates_and_finds_cycles_at_once() -> None:
    doc = definition({"op": "and", "args": [audience("parent"), trait("ltv", "gt", 10)]})
    doc["include_historical"] = False
    result, errors = check_audience(
        doc,
        key="child",
        depends_on=lambda k: {"parent": {"child"}}.get(k, set()),
        is_batch_trait={"ltv"}.__contains__,
    )
    assert result.mode == BATCH
    assert [(e.path, e.code) for e in errors] == [
        ("/include_historical", "historical_batch"),
        ("/root/args/0/audience_key", "cycle"),
    ]
    assert check_audience(VIEWED_NOT_BOUGHT) == ((REALTIME, ()), [])
