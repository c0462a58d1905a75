"""Delivery entry points: what the Celery tasks run (a batch, due retries, the
sweep) and the Event Tester (``do_send_test_event``), which sends one event
through a destination's real actions and shows the requests and responses."""

from __future__ import annotations

import uuid
from typing import Any

from connections.delivery import actions, engine, outcomes
from connections.models import Destination, Subscription
from connections.rules import CompiledFilters, MappingRule, route
from connections.services.destinations import definition_of
from connections.services.preview import rules_of
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, NotFound


def do_deliver_batch(batch_id: int) -> dict[str, Any]:
    """Deliver one outbox batch (the ``connections.deliver_batch`` task)."""
    return engine.deliver_batch(batch_id)


def do_deliver_retries(delivery_ids: list[int]) -> dict[str, Any]:
    """Send again the due *retrying* deliveries among ``delivery_ids``."""
    return engine.deliver_retries(delivery_ids)


def do_sweep_deliveries() -> dict[str, int]:
    """Queue stalled batches and due retries again (beat, every minute)."""
    return engine.sweep()


def _result_view(result: outcomes.Result) -> dict[str, Any]:
    return {
        "status": result.status,
        "code": result.code,
        "message": result.message,
        "request": result.request,
        "response": result.response,
    }


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
    rules = rules_of(destination)
    if subscription is not None:
        rules = [rule for rule in rules if rule.key == subscription.key_id]
    report: list[dict[str, Any]] = []
    for rule in rules:
        if subscription is None and not rule.enabled:
            continue
        entry: dict[str, Any] = {
            "id": rule.key,
            "display_name": rule.name,
            "action": rule.action,
            "enabled": rule.enabled,
            "matched": False,
            "sent": False,
        }
        report.append(entry)
        if rule.predicate is None or rule.resolve is None:
            problem = f"the mapping cannot run: {rule.problem}"
            entry["result"] = _result_view(outcomes.failed(outcomes.INVALID_SETTINGS, problem))
            continue
        routed = route(_NO_FILTERS, [_enabled(rule)], message)
        match = routed.mappings[0]
        entry["matched"] = match.matched
        if match.error:
            entry["result"] = _result_view(outcomes.failed(outcomes.INVALID_SETTINGS, match.error))
            continue
        if not match.matched and subscription is None:
            continue
        payload = match.payload if match.matched else rule.resolve(message)
        action = definition.action(rule.action)
        if action is None:
            problem = f"{definition.name} has no action {rule.action!r}"
            entry["result"] = _result_view(outcomes.failed(outcomes.INVALID_SETTINGS, problem))
            continue
        context = actions.Context(definition, action, destination.settings)
        (result,) = actions.perform(
            context, [actions.Send(str(message["messageId"]), payload, str(message["type"]))]
        )
        entry["sent"] = True
        entry["payload"] = payload
        entry["result"] = _result_view(result)
    sent = [e for e in report if e["sent"]]
    delivered = [e for e in sent if e["result"]["status"] == outcomes.DELIVERED]
    return {
        "message_id": message["messageId"],
        "summary": (
            f"{len(sent)} mapping(s) matched and sent, {len(delivered)} succeeded."
            if sent
            else "No enabled mapping matches this event: nothing was sent."
        ),
        "mappings": report,
    }


def _enabled(rule: MappingRule) -> MappingRule:
    if rule.enabled:
        return rule
    return MappingRule(
        key=rule.key,
        name=rule.name,
        action=rule.action,
        enabled=True,
        trigger=rule.trigger,
        mapping=rule.mapping,
    )


# The Event Tester bypasses destination filters.
_NO_FILTERS = CompiledFilters([])
