"""The Event Tester: one event through a destination's real actions, now, with
the requests and responses shown. Nothing is recorded: no delivery rows, no
counters, no retries. Permission and input checks are the caller's
(``connections.services.delivery.do_send_test_event``)."""

from __future__ import annotations

from typing import Any

import orjson

from connections.catalog import DestinationDefinition
from connections.dataplane.delivery import actions, outcomes
from connections.dataplane.delivery.compiled import rules_of
from connections.models import Destination
from connections.rules import CompiledFilters, MappingRule, route

# The Event Tester bypasses destination filters.
_NO_FILTERS = CompiledFilters([])


def _result_view(result: outcomes.Result) -> dict[str, Any]:
    return {
        "status": result.status,
        "code": result.code,
        "message": result.message,
        "request": result.request,
        "response": result.response,
    }


def send_test_event(
    destination: Destination,
    definition: DestinationDefinition,
    message: dict[str, Any],
    subscription_key: str | None = None,
) -> dict[str, Any]:
    """Every *enabled* mapping whose trigger matches ``message`` sends (or only the
    mapping ``subscription_key``, whatever its trigger and state); the answer shows
    per mapping the request (secrets masked) and the response or error."""
    rules = rules_of(destination)
    if subscription_key is not None:
        rules = [rule for rule in rules if rule.key == subscription_key]
    report: list[dict[str, Any]] = []
    for rule in rules:
        if subscription_key is None and not rule.enabled:
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
        if match.exception is not None:  # the event's content: shown as delivery records it
            failure = outcomes.from_event_error(match.exception, f"mapping {rule.name!r}")
            entry["result"] = _result_view(failure)
            continue
        if match.error:
            entry["result"] = _result_view(outcomes.failed(outcomes.INVALID_SETTINGS, match.error))
            continue
        if not match.matched and subscription_key is None:
            continue
        try:
            payload = match.payload if match.matched else rule.resolve(message)
        except Exception as exc:
            entry["result"] = _result_view(outcomes.from_event_error(exc, f"mapping {rule.name!r}"))
            continue
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
        entry["payload"] = _shown(payload)
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


def _shown(payload: Any) -> Any:
    """The payload as JSON can answer it (a mapping can make numbers JSON cannot
    carry: infinities become null, and what orjson refuses is shown as text)."""
    try:
        return orjson.loads(orjson.dumps(payload))
    except Exception:
        return repr(payload)[: outcomes.REQUEST_BODY_EXCERPT]


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
