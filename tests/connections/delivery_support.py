"""Shared by the delivery tests: a real local HTTP server that records what it
receives and answers from a script (the ``server`` and ``make_server`` fixtures,
registered for tests/connections by its conftest), events stored through the
real ingest function, and a source with a webhook destination."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User

from connections.dataplane.counters import Key
from connections.dataplane.ingest import Ingested, ingest
from connections.dataplane.tracking import validation
from connections.models import DeliveryBatch, Destination, Source, Subscription, WriteKey
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from connections.services.subscriptions import do_create_subscription
from switchyard.access import Principal
from workspace.models import Workspace


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = None  # answer only once this is set


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class Server:
    """An HTTP server on a thread; ``replies`` are used in order, then ``default``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.arrived = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.arrived:
                    server.requests.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    reply = server.replies.popleft() if server.replies else server.default
                    server.arrived.notify_all()
                if reply.hold is not None:
                    reply.hold.wait(60)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.httpd = Quiet((host, 0), Handler)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        assert len(self.requests) >= count, f"{len(self.requests)} request(s), wanted {count}"
        return self.requests

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


@pytest.fixture
def make_server() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def make(host: str = "127.0.0.1") -> Server:
        started.append(Server(host))
        return started[-1]

    yield make
    for running in started:
        running.close()


# --- sources, destinations, events -------------------------------------------------------


@dataclass
class Setup:
    owner: User
    workspace: Workspace
    source: Source

    @property
    def principal(self) -> Principal:
        return Principal(self.owner)

    @property
    def write_key(self) -> str:
        return write_key_of(self.source)

    def destination(
        self, definition: str = "actions-webhook", settings: dict[str, Any] | None = None
    ) -> Destination:
        return do_create_destination(
            principal=self.principal,
            source=self.source,
            definition=definition,
            settings=settings or {},
            enabled=True,
        )

    def webhook(
        self,
        url: str,
        *,
        trigger: str = 'type = "track"',
        settings: dict[str, Any] | None = None,
        **fields: Any,
    ) -> tuple[Destination, Subscription]:
        destination = self.destination("actions-webhook", settings)
        mapping = {"url": url, "method": "POST", "data": {"@path": "$."}, **fields}
        subscription = self.mapping(destination, "send", mapping, trigger=trigger)
        return destination, subscription

    def mapping(
        self,
        destination: Destination,
        action: str,
        mapping: dict[str, Any] | None = None,
        *,
        trigger: str | None = None,
        enabled: bool = True,
    ) -> Subscription:
        return do_create_subscription(
            principal=self.principal,
            destination=destination,
            action=action,
            trigger=trigger,
            mapping=mapping,
            enabled=enabled,
        )

    def track(self, *messages: dict[str, Any]) -> Ingested:
        return send(self.write_key, list(messages))


def write_key_of(source: Source) -> str:
    return WriteKey.objects.filter(source=source, revoke_time=None).values_list(
        "secret", flat=True
    )[0]


def make_setup(owner: User, workspace: Workspace, slug: str = "web") -> Setup:
    source = do_create_source(
        principal=Principal(owner),
        workspace=workspace,
        slug=slug,
        display_name=slug.title(),
        source_type="javascript",
    )
    return Setup(owner, workspace, source)


def track(event: str = "Order Completed", **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": "user-1", "properties": {}, **extra}


def send(write_key: str, messages: list[dict[str, Any]]) -> Ingested:
    """Store messages as the Tracking API does (the real ingest function)."""
    now = dt.datetime.now(dt.UTC)
    rows = validation.normalize_batch(
        {"batch": messages}, received_at=now, received_iso=validation.iso(now)
    )
    stored = ingest(write_key, rows, received_at=now)
    assert stored is not None, "unknown write key"
    return stored


def batch_of(stored: Ingested) -> int:
    assert stored.batch_id is not None
    assert DeliveryBatch.objects.filter(pk=stored.batch_id).exists()
    return stored.batch_id


def delivery_counts(destination: Destination) -> dict[tuple[str, str], int]:
    from connections.models import PipelineCount

    counts: dict[tuple[str, str], int] = {}
    for row in PipelineCount.objects.filter(stage="delivery", destination_id=destination.pk):
        counts[(row.outcome, row.reason)] = counts.get((row.outcome, row.reason), 0) + row.count
    return counts


__all__ = [
    "Key",
    "Received",
    "Reply",
    "Server",
    "Setup",
    "batch_of",
    "delivery_counts",
    "make_server",
    "make_setup",
    "send",
    "server",
    "track",
    "write_key_of",
]
