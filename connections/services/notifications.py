"""Outbound notifications' HTTP: ``post_json``, the public entry point to
delivery's outbound client for producers inside Switchyard that notify a URL a
user configured (Reverse ETL alerts' Slack-compatible webhook)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from connections.dataplane.delivery import http

ERROR_EXCERPT = 200


@dataclass(frozen=True)
class Posted:
    """What came of a POST: ``status`` (0 without an answer), ``error`` ("" for a
    2xx) and whether trying again later may help (no answer, 408, 429, 5xx)."""

    status: int
    error: str = ""
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


def post_json(url: str, payload: dict[str, Any]) -> Posted:
    """POST ``payload`` as JSON to ``url`` through delivery's client: its timeout,
    User-Agent and SSRF guard (a private address is refused, not retried, unless
    ``DELIVERY_ALLOW_PRIVATE_NETWORKS``), redirects followed by hand."""
    body = json.dumps(payload).encode()
    try:
        exchange = http.send("POST", url, headers={"Content-Type": "application/json"}, body=body)
    except http.BlockedAddress as exc:
        return Posted(0, str(exc))
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return Posted(0, f"invalid URL: {exc}")
    except httpx.HTTPError as exc:
        return Posted(0, f"{type(exc).__name__}: {exc}", retryable=True)
    if 200 <= exchange.status < 300:
        return Posted(exchange.status)
    excerpt = exchange.response_body[:ERROR_EXCERPT].decode(errors="replace")
    retryable = exchange.status in (408, 429) or exchange.status >= 500
    return Posted(exchange.status, f"HTTP {exchange.status}: {excerpt}", retryable)
