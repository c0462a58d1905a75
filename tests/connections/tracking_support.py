"""Helpers shared by the Tracking API tests and its benchmark: a workspace with a
source and its key, and the tracking-only server run by gunicorn on the test database."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from connections.models import Event, PipelineCount, Source, WriteKey
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.services.workspaces import do_create_workspace


@dataclass
class Tracked:
    source: Source
    key: str


def make_source(owner: User, workspace_slug: str = "acme", slug: str = "web") -> Tracked:
    workspace = do_create_workspace(
        principal=Principal(owner), slug=workspace_slug, display_name=workspace_slug.title()
    )
    source = do_create_source(
        principal=Principal(owner),
        workspace=workspace,
        slug=slug,
        display_name="Website",
        source_type="javascript",
    )
    key = WriteKey.objects.get(source=source, revoke_time=None)
    return Tracked(source=source, key=key.secret)


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def post(
    client: Client,
    path: str,
    body: Any,
    *,
    key: str | None = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
    **headers: str,
) -> Any:
    """POST ``body`` (JSON) or ``raw`` bytes; ``key`` goes in HTTP Basic auth."""
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = basic(key)
    data = raw if raw is not None else orjson.dumps(body)
    return client.generic("POST", path, data, content_type=content_type, **headers)


def events(source: Source) -> list[Event]:
    return list(Event.objects.filter(source_id=source.pk).order_by("id"))


def counts(source: Source) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for row in PipelineCount.objects.filter(source_id=source.pk, stage="ingest"):
        found[row.outcome, row.reason] = found.get((row.outcome, row.reason), 0) + row.count
    return found


ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def served_database_url() -> str:
    """The test database as a URL, for a server started in another process."""
    connection.ensure_connection()
    db = connection.settings_dict
    host = quote(str(db["HOST"]), safe="")
    return f"postgresql://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def tracking_server(workers: int = 1, **env: str) -> Iterator[int]:
    """gunicorn serving switchyard.tracking_wsgi against the test database; yields
    its port once /healthz answers. ``env`` adds to (or overrides) the environment."""
    port = free_port()
    environ = dict(os.environ, DATABASE_URL=served_database_url(), **env)
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "gunicorn", "switchyard.tracking_wsgi"]
    command += ["-b", f"127.0.0.1:{port}", "-w", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=environ)
    try:
        # Generous: a busy 2-core machine can take many seconds to import Django.
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "gunicorn exited while starting"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
