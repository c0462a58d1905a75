"""Warnings, not refusals, for URLs in a destination that delivery's SSRF guard will
refuse (a loopback or private address while DELIVERY_ALLOW_PRIVATE_NETWORKS is off):
the save goes through, and the UI and the API say at once why delivery will fail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connections.dataplane.delivery import address_check
from connections.models import Destination, Subscription


def _literal_urls(value: Any) -> Iterator[str]:
    """http(s) URLs written as literal values: settings, mapping fields. A template
    (``{{...}}``) or a directive resolves per event, so it is not a URL yet."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower().startswith(("http://", "https://")) and "{{" not in text:
            yield text
    elif isinstance(value, dict):
        if any(isinstance(k, str) and k.startswith("@") for k in value):
            return
        for item in value.values():
            yield from _literal_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _literal_urls(item)


def for_subscription(subscription: Subscription) -> list[str]:
    return address_check.warnings_for(_literal_urls(subscription.mapping))


def for_destination(destination: Destination) -> list[str]:
    """The destination's settings and its mappings' literal URLs."""

    def urls() -> Iterator[str]:
        yield from _literal_urls(destination.settings)
        for mapping in destination.subscriptions.values_list("mapping", flat=True):
            yield from _literal_urls(mapping)

    return address_check.warnings_for(urls())
