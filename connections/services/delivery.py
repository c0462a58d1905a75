"""The Event Tester (``do_send_test_event``): who may send a test event and what a
test event must look like; the sending is the data plane's
(``connections.dataplane.delivery.tester``). ``deliver_mapped``: the public entry
point of direct delivery (``connections.dataplane.delivery.direct``) for producers
inside Switchyard."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings

from connections.dataplane.delivery import direct, tester
from connections.models import Destination, Subscription
from connections.services.destinations import definition_of
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, NotFound

Resolver = Callable[[Any], Any]


def do_send_test_event(
    principal: Principal,
    destination: Destination,
    event: object,
    subscription: Subscription | None = None,
) -> dict[str, Any]:
    """Send ``event`` to ``destination`` now, as Segment's Event Tester does: the
    destination's filters are bypassed, every *enabled* mapping whose trigger
    matches sends (or only ``subscription``, whatever its trigger and state), and
    the answer shows per mapping the request (secrets masked) and the response or
    error. Nothing is recorded: no delivery rows, no counters, no retries."""
    access.require(principal, "change", destination)
    if not isinstance(event, dict):
        raise InvalidArgument("the test event must be a JSON object", field="event")
    if event.get("type") not in ("track", "identify", "page", "screen", "group", "alias"):
        raise InvalidArgument(
            "the test event needs a type: track, identify, page, screen, group or alias",
            field="event.type",
        )
    if subscription is not None and subscription.destination_id != destination.pk:
        raise NotFound("subscription not found")
    definition = definition_of(destination)
    message = dict(event)
    message.setdefault("messageId", f"test-{uuid.uuid4().hex}")
    key = subscription.key_id if subscription is not None else None
    return tester.send_test_event(destination, definition, message, key)


def deliver_mapped(
    destination: Destination,
    action_key: str,
    field_mappings: Resolver,
    messages: Sequence[tuple[str, dict[str, Any]]],
) -> list[direct.Outcome]:
    """Deliver messages a producer inside Switchyard holds (Reverse ETL's load:
    ``connections.reverse_etl.services.syncs``) to ``destination`` now, through
    ``action_key`` with the producer's compiled ``field_mappings`` (the mapping
    kit's ``mapping.compile``), not the destination's own mappings or filters.
    Batching actions send one request per batch; retryable failures are retried
    within the call (``RETL_LOAD_ATTEMPTS`` attempts, waits from
    ``RETL_LOAD_RETRY_BASE_SECONDS`` capped at ``RETL_LOAD_RETRY_MAX_DELAY_SECONDS``,
    Retry-After honoured up to ``RETL_LOAD_RETRY_AFTER_MAX_SECONDS``). Answers one
    final outcome per message, in order; nothing is recorded (the producer records
    the outcomes). Permission checks are the caller's."""
    policy = direct.Policy(
        attempts=max(1, int(settings.RETL_LOAD_ATTEMPTS)),
        base_delay=float(settings.RETL_LOAD_RETRY_BASE_SECONDS),
        max_delay=float(settings.RETL_LOAD_RETRY_MAX_DELAY_SECONDS),
        retry_after_cap=float(settings.RETL_LOAD_RETRY_AFTER_MAX_SECONDS),
    )
    return direct.deliver(
        destination,
        definition_of(destination),
        action_key,
        field_mappings,
        messages,
        policy=policy,
    )
