"""Helpers shared by the Tracking API tests: a workspace with a source and its key."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
from django.contrib.auth.models import User
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
