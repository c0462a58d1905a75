"""Events sent through the real Tracking API (/v1/batch, the source's write key)
and the delivery worker's batch run: how detection fills the Inbox in tests."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from connections.dataplane.delivery.deliver import deliver_batch
from connections.models import DeliveryBatch, Source, WriteKey
from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.connections.tracking_support import post
from workspace.models import Workspace


def add_source(
    owner: User, workspace: Workspace, slug: str, labels: tuple[str, ...] = ()
) -> Source:
    return do_create_source(
        principal=Principal(owner),
        workspace=workspace,
        slug=slug,
        display_name=slug.title(),
        source_type="javascript",
        labels=list(labels),
    )


def key_of(source: Source) -> str:
    return WriteKey.objects.get(source=source, revoke_time=None).secret


def send(source: Source, *messages: dict[str, Any]) -> None:
    """POST the messages to /v1/batch, then run every pending delivery batch once,
    as the worker would after the commit (tests do not run on_commit hooks)."""
    answer = post(Client(), "/v1/batch", {"batch": list(messages)}, key=key_of(source))
    assert answer.status_code == 200, answer.content
    for batch_id in DeliveryBatch.objects.order_by("id").values_list("id", flat=True):
        deliver_batch(batch_id)


def identify(user_id: str = "u-1", **traits: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": user_id, "traits": traits}


def track(event: str, user_id: str = "u-1", **properties: Any) -> dict[str, Any]:
    return {"type": "track", "userId": user_id, "event": event, "properties": properties}
