"""Spaces with connected sources and events sent through the real Tracking API:
how the pipeline tests feed identity resolution."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from connections.dataplane.delivery.deliver import deliver_batch
from connections.models import DeliveryBatch, Source, WriteKey
from connections.services.sources import do_create_source
from engage.models import Space, SpaceSource
from engage.services.space_sources import do_connect_source
from engage.services.spaces import do_create_space
from switchyard.access import Principal
from tests.connections.tracking_support import post
from workspace.models import Workspace


def add_space(owner: User, workspace: Workspace, slug: str = "prod") -> Space:
    return do_create_space(
        principal=Principal(owner), workspace=workspace, slug=slug, display_name=slug.title()
    )


def add_source(owner: User, workspace: Workspace, slug: str = "web") -> Source:
    return do_create_source(
        principal=Principal(owner),
        workspace=workspace,
        slug=slug,
        display_name=slug.title(),
        source_type="javascript",
    )


def connect(owner: User, space: Space, source: Source) -> SpaceSource:
    """Connected without the default replay: these tests start replays themselves."""
    return do_connect_source(principal=Principal(owner), space=space, source=source, replay=False)


def ingest(source: Source, *messages: dict[str, Any]) -> None:
    """POST the messages to /v1/batch (one ingest batch)."""
    key = WriteKey.objects.get(source=source, revoke_time=None).secret
    answer = post(Client(), "/v1/batch", {"batch": list(messages)}, key=key)
    assert answer.status_code == 200, answer.content


def deliver_all() -> None:
    """Run every pending delivery batch once, oldest first, as the worker would
    after the commit (non-transactional tests do not run on_commit hooks)."""
    for batch_id in DeliveryBatch.objects.order_by("id").values_list("id", flat=True):
        deliver_batch(batch_id)


def identify(user_id: str | None, anonymous_id: str | None = None, **traits: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "identify", "traits": traits}
    if user_id:
        message["userId"] = user_id
    if anonymous_id:
        message["anonymousId"] = anonymous_id
    return message


def track(event: str, user_id: str | None, anonymous_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "track", "event": event}
    if user_id:
        message["userId"] = user_id
    if anonymous_id:
        message["anonymousId"] = anonymous_id
    return message
