"""The Event Tester (``do_send_test_event``): who may send a test event and what a
test event must look like; the sending is the data plane's
(``connections.dataplane.delivery.tester``)."""

from __future__ import annotations

import uuid
from typing import Any

from connections.dataplane.delivery import tester
from connections.models import Destination, Subscription
from connections.services.destinations import definition_of
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, NotFound


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


def send_now(destination: Destination, message: dict[str, Any]) -> dict[str, Any]:
    """Deliver ``message`` (with its ``messageId``) to ``destination`` now, through its
    enabled mappings whose trigger matches, and answer per mapping what was sent and
    what came back (the Event Tester's path: destination filters bypassed, no
    delivery rows, counters or retries). For producers inside Switchyard that record
    each message's outcome themselves and retry at their next run: Reverse ETL syncs
    (``connections.reverse_etl.services.syncs``). Permission checks are the caller's."""
    return tester.send_test_event(destination, definition_of(destination), message)
