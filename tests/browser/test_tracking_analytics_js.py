"""Segment's analytics.js (@segment/analytics-next 1.84.3, its standalone bundle
vendored under switchyard/static/vendor/segment/), unmodified, in Chromium on a page
of another origin, sends to Switchyard's Tracking API: the calls are stored.

Nothing comes from a CDN: the bundle and the source's settings
(``/v1/projects/{writeKey}/settings``) are served by the live server, and any
other outside request is refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Route

from connections.dataplane import ingest
from connections.models import Event
from tests.connections.tracking_support import Tracked, events, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUNDLE = "/static/vendor/segment/analytics-next-1.84.3.standalone.js"

PAGE = """<!doctype html>
<html><head><title>Shop</title>
<script>
  // What the official snippet leaves behind: a queue the bundle replays on load.
  window.analytics = [];
  window.analytics._writeKey = "{key}";
  // Its CDN is Switchyard: the settings (/v1/projects/KEY/settings) name Switchyard
  // as the API host.
  window.analytics._cdn = "{api}";
  window.analytics.push(["page", "Shop", "Home"]);
</script>
<script async src="{api}{bundle}"></script>
</head><body><h1>Shop</h1></body></html>
"""


@pytest.fixture
def tracked(alice: User) -> Iterator[Tracked]:
    tracked = make_source(alice)
    yield tracked
    Event.objects.filter(source_id=tracked.source.pk).delete()


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def shop_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """The shop: a page on another origin than the API's (so CORS applies), served on
    loopback by a server of its own (Chromium keeps pages of other address spaces,
    including intercepted ones, from calling loopback)."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def test_analytics_js_sends_page_track_and_identify(
    live_server: Any,
    page: Page,
    tracked: Tracked,
    shop_server: tuple[str, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enqueued: list[int] = []
    lock = threading.Lock()

    def record(batch_id: int) -> None:
        with lock:
            enqueued.append(batch_id)

    monkeypatch.setattr(ingest, "enqueue_delivery", record)
    api = live_server.url
    origin, pages = shop_server
    pages["/"] = PAGE.format(key=tracked.key, api=api, bundle=BUNDLE).encode()
    refused: list[str] = []

    def route(route: Route) -> None:
        url = route.request.url
        if url.startswith((api, origin)):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", route)
    page.goto(f"{origin}/")
    page.wait_for_function("() => window.analytics && window.analytics.initialized === true")

    with page.expect_response(lambda r: r.url.endswith("/v1/t")) as answer:
        page.evaluate(
            """() => window.analytics.track("Product Added", {sku: "sku-1", price: 9.99})"""
        )
    assert answer.value.status == 200
    assert answer.value.headers["access-control-allow-origin"] == origin
    with page.expect_response(lambda r: r.url.endswith("/v1/i")) as answer:
        page.evaluate("""() => window.analytics.identify("user-7", {plan: "pro"})""")
    assert answer.value.status == 200

    wait_for(lambda: len(events(tracked.source)) == 3)
    stored = {e.type: e for e in events(tracked.source)}
    assert set(stored) == {"page", "track", "identify"}
    assert stored["page"].event_name == "Home"
    assert stored["page"].payload["category"] == "Shop"
    assert stored["page"].payload["properties"]["url"] == f"{origin}/"
    track = stored["track"]
    assert track.event_name == "Product Added"
    assert track.payload["properties"] == {"sku": "sku-1", "price": 9.99}
    assert track.payload["context"]["library"]["name"] == "analytics.js"
    assert track.anonymous_id and track.anonymous_id == stored["page"].anonymous_id
    assert "writeKey" not in track.payload
    assert stored["identify"].user_id == "user-7"
    assert stored["identify"].payload["traits"] == {"plan": "pro"}
    assert len(enqueued) == 3
