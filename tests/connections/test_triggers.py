"""The trigger builder: rows -> FQL that compiles and means what the rows say."""

from __future__ import annotations

import pytest

from connections.rules import fql, triggers
from connections.rules.triggers import Condition, TriggerError

EVENT = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u1",
    "properties": {"revenue": 25, "plan": "pro*", "note": 'say "hi"', "zip": "02134"},
    "context": {"page": {"url": "https://example.com/checkout"}},
}


@pytest.mark.parametrize(
    ("condition", "expected", "matches"),
    [
        (Condition("type", "is", "track"), 'type = "track"', True),
        (Condition("type", "is_not", "track"), 'type != "track"', False),
        (Condition("event", "contains", "Order"), 'contains(event, "Order")', True),
        (Condition("event", "not_contains", "Order"), '!contains(event, "Order")', False),
        (Condition("event", "starts_with", "Order"), 'match(event, "Order*")', True),
        (Condition("event", "ends_with", "Completed"), 'match(event, "*Completed")', True),
        (Condition("event", "ends_with", "Order"), 'match(event, "*Order")', False),
        (
            Condition("property", "exists", path="context.page.url"),
            "context.page.url != null",
            True,
        ),
        (
            Condition("property", "not_exists", path="properties.coupon"),
            "properties.coupon = null",
            True,
        ),
        (
            Condition("property", "lt", "30", path="properties.revenue"),
            "properties.revenue < 30",
            True,
        ),
        (
            Condition("property", "lte", "25", path="properties.revenue"),
            "properties.revenue <= 25",
            True,
        ),
        (
            Condition("property", "gt", "25", path="properties.revenue"),
            "properties.revenue > 25",
            False,
        ),
        (
            Condition("property", "gte", "2.5e1", path="properties.revenue"),
            "properties.revenue >= 2.5e1",
            True,
        ),
        (
            Condition("property", "is", "25", path="properties.revenue"),
            "properties.revenue = 25",
            True,
        ),
        (
            Condition("property", "is", '"02134"', path="$.properties.zip"),
            'properties.zip = "02134"',
            True,
        ),
        (
            Condition("property", "is", "02134", path="properties.zip"),
            'properties.zip = "02134"',
            True,
        ),
    ],
)
def test_each_operator(condition: Condition, expected: str, matches: bool) -> None:
    expression = triggers.to_fql([condition])
    assert expression == expected
    assert fql.compile(expression).evaluate(EVENT) is matches


def test_strings_are_quoted_and_globs_escaped() -> None:
    expression = triggers.to_fql(
        [
            Condition("property", "is", 'say "hi"', path="properties.note"),
            Condition("property", "starts_with", "pro*", path="properties.plan"),
        ]
    )
    assert expression == 'properties.note = "say \\"hi\\"" and match(properties.plan, "pro\\\\**")'
    predicate = fql.compile(expression)
    assert predicate.evaluate(EVENT) is True
    # The * of the value is literal: "professional" does not start with "pro*".
    other = {**EVENT, "properties": {**EVENT["properties"], "plan": "professional"}}
    assert predicate.evaluate(other) is False


def test_unusual_paths_are_escaped() -> None:
    expression = triggers.to_fql([Condition("property", "is", "x", path="properties.my field")])
    assert expression == 'properties.my\\ field = "x"'
    assert fql.compile(expression).evaluate({"properties": {"my field": "x"}}) is True


def test_all_and_any() -> None:
    rows = [Condition("type", "is", "page"), Condition("event", "is", "Order Completed")]
    assert triggers.to_fql(rows, "all") == 'type = "page" and event = "Order Completed"'
    assert triggers.to_fql(rows, "any") == 'type = "page" or event = "Order Completed"'
    assert fql.compile(triggers.to_fql(rows, "all")).evaluate(EVENT) is False
    assert fql.compile(triggers.to_fql(rows, "any")).evaluate(EVENT) is True


def test_blank_rows_are_skipped_and_empty_is_an_error() -> None:
    rows = [Condition("type", "is", "track"), Condition("event", "is", "")]
    assert triggers.to_fql(rows) == 'type = "track"'
    with pytest.raises(TriggerError, match="at least one condition"):
        triggers.to_fql([Condition("type", "is", "")])


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (Condition("property", "gt", "ten", path="properties.revenue"), "needs a number"),
        (Condition("property", "is", "x", path=""), "property path"),
        (Condition("property", "is", "x", path="properties..x"), "property path"),
        (Condition("type", "between", "x"), "unknown operator"),
        (Condition("event", "contains", "", path="x"), "needs a value"),
    ],
)
def test_incomplete_rows_name_the_row(condition: Condition, message: str) -> None:
    with pytest.raises(TriggerError, match=message) as caught:
        triggers.to_fql([Condition("type", "is", "track"), condition])
    assert caught.value.row == 1
    assert "condition 2" in caught.value.message


def test_from_fql_reads_builder_output_back() -> None:
    rows = [
        Condition("type", "is", "track"),
        Condition("event", "starts_with", "Order*"),
        Condition("property", "gt", "10", path="properties.revenue"),
        Condition("property", "is", '"10"', path="properties.count"),
        Condition("property", "exists", path="context.page.url"),
        Condition("property", "not_contains", 'a"b', path="properties.my field"),
    ]
    for match in ("all", "any"):
        assert triggers.from_fql(triggers.to_fql(rows, match)) == (match, rows)


def test_from_fql_reads_catalog_default_triggers() -> None:
    parsed = triggers.from_fql('type = "track" or type = "page"')
    assert parsed == ("any", [Condition("type", "is", "track"), Condition("type", "is", "page")])


@pytest.mark.parametrize(
    "expression",
    ['type = "track" and (event = "a" or event = "b")', "length(event) > 3", "not valid ("],
)
def test_from_fql_gives_up_on_what_the_builder_cannot_show(expression: str) -> None:
    assert triggers.from_fql(expression) is None
