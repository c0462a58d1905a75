"""Audience and computed trait keys: snake-cased names (engage.definitions.keys)."""

from __future__ import annotations

import pytest

from engage.definitions import KEY_MAX, key_error, key_from_name


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Most Viewed Page Category", "most_viewed_page_category"),
        ("big spender", "big_spender"),
        ("  Total -- Revenue (90 days)!", "total_revenue_90_days"),
        ("pricingPageVisits", "pricing_page_visits"),
        ("HTTPServer errors", "http_server_errors"),
        ("Café Visits", "cafe_visits"),
        ("already_snake_case", "already_snake_case"),
        ("30 day buyers", "30_day_buyers"),
        ("page2 views", "page2_views"),
        ("!!!", ""),
    ],
)
def test_key_from_name(name: str, key: str) -> None:
    assert key_from_name(name) == key


def test_long_names_give_keys_within_the_limit() -> None:
    key = key_from_name("word " * 100)
    assert len(key) <= KEY_MAX
    assert key_error(key) is None


@pytest.mark.parametrize("key", ["big_spender", "a", "30_day_buyers", "x1_y2"])
def test_valid_keys(key: str) -> None:
    assert key_error(key) is None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "a key is a non-empty string"),
        (None, "a key is a non-empty string"),
        ("a" * 256, "a key has at most 255 characters"),
        (
            "Big Spender",
            "a key is snake_case: lower-case letters a-z, digits and single "
            "underscores between words (for example 'big_spender')",
        ),
        ("big__spender", None),
        ("_big", None),
        ("big_", None),
        ("große", None),
    ],
)
def test_invalid_keys(key: object, message: str | None) -> None:
    error = key_error(key)
    assert error is not None
    if message:
        assert error == message
    else:
        assert error.startswith("a key is snake_case")
