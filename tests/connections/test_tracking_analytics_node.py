"""Segment's Node.js library (@segment/analytics-node, pinned in tests/node's
package-lock.json), unmodified, pointed at a live Switchyard: every call type
arrives as the library sent it, a bad write key is reported, and a 429 from the
ingest rate limit is retried after its Retry-After until everything is stored.

The package is installed with ``npm ci`` from the lock file when tests/node has no
node_modules (CI installs Node.js and npm as it installs Chromium)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from connections.dataplane import ingest
from connections.models import Event
from tests.connections.tracking_support import Tracked, counts, events, make_source

pytestmark = pytest.mark.django_db(transaction=True)

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
PACKAGE = NODE_DIR / "node_modules" / "@segment" / "analytics-node" / "package.json"


@pytest.fixture(scope="session")
def analytics_node() -> Path:
    """tests/node with its node_modules, installed from the lock file once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node.js and npm are needed (apt-get install nodejs npm)"
    lock = NODE_DIR / "package-lock.json"
    if not PACKAGE.exists() or PACKAGE.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    return NODE_DIR


@pytest.fixture(autouse=True)
def enqueued(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Delivery batches the server enqueued (kept off the shared broker)."""
    sent: list[int] = []
    monkeypatch.setattr(ingest, "enqueue_delivery", sent.append)
    yield sent


@pytest.fixture
def tracked(alice: User) -> Iterator[Tracked]:
    tracked = make_source(alice)
    yield tracked
    # The event table is not flushed between transactional tests (it is unmanaged).
    Event.objects.filter(source_id=tracked.source.pk).delete()


def send(directory: Path, host: str, key: str, flush_at: int = 15) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "send.mjs", host, key, str(flush_at)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_analytics_node_sends_every_call_type(
    analytics_node: Path, live_server: LiveServer, tracked: Tracked
) -> None:
    result = send(analytics_node, live_server.url, tracked.key)
    assert result["errors"] == []

    stored = events(tracked.source)
    assert [e.type for e in stored] == [
        "identify",
        "track",
        "page",
        "screen",
        "group",
        "alias",
        "track",
    ]
    identify, track, page, screen, group, alias, anonymous = stored
    assert identify.payload["traits"] == {"email": "ada@example.com"}
    assert track.event_name == "Order Completed"
    assert track.payload["properties"] == {"revenue": 42.5}
    assert track.payload["context"]["library"]["name"] == "@segment/analytics-node"
    assert track.payload["originalTimestamp"].startswith("2024-03-01T12:00:00")
    assert page.event_name == "Pricing" and page.payload["category"] == "Docs"
    assert screen.event_name == "Home"
    assert group.payload["groupId"] == "group-1"
    assert alias.payload["previousId"] == "anon-1" and alias.user_id == "user-1"
    assert anonymous.anonymous_id == "anon-2" and anonymous.user_id == ""
    # The library's messageIds are kept; the server filled context.ip (none was sent).
    assert all(e.message_id.startswith("node-next-") for e in stored)
    assert {e.payload["context"]["ip"] for e in stored} == {"127.0.0.1"}
    assert counts(tracked.source)[("accepted", "track")] == 2


def test_analytics_node_reports_a_bad_write_key(
    analytics_node: Path, live_server: LiveServer, tracked: Tracked
) -> None:
    result = send(analytics_node, live_server.url, "wrong-key")
    assert result["errors"], result
    assert all(e["code"] == "delivery_failure" for e in result["errors"])
    assert any("401" in e["reason"] for e in result["errors"]), result
    assert events(tracked.source) == []


def test_analytics_node_waits_out_the_rate_limit(
    analytics_node: Path, live_server: LiveServer, tracked: Tracked, settings: Any
) -> None:
    """One event per request and two requests a second allowed: the library gets
    429s, waits their Retry-After, and every event is stored, once."""
    settings.SWITCHYARD_INGEST_RATE_LIMIT = 2
    result = send(analytics_node, live_server.url, tracked.key, flush_at=1)
    assert result["errors"] == []
    assert len(events(tracked.source)) == 7
    assert result["requests"] > 7  # some were answered 429 and sent again
