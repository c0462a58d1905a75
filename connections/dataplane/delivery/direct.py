"""Direct delivery: messages a producer inside Switchyard already holds, mapped by
the producer's own field mappings and performed through one action of a
destination now, with batching and bounded in-call retries. Reverse ETL's load
(``connections.services.delivery.deliver_mapped``) is the producer.

Unlike the pipeline (``deliver``) nothing is stored here: no outbox, delivery
rows or counters. The producer records one final outcome per message itself
and decides what a failure means (Reverse ETL retries failed records at its
next runs). Unlike the Event Tester, a batching action sends one request per
batch, and retryable failures (timeouts, connection errors, 408, 429, 5xx) are
tried again within the call: at most ``attempts`` times, after the backoff's
equal-jitter wait (from ``base_delay``, capped at ``max_delay``) or the
destination's ``Retry-After`` (capped at ``retry_after_cap``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connections.catalog import DestinationDefinition
from connections.dataplane.delivery import actions, backoff, outcomes
from connections.models import Destination

Resolver = Callable[[Any], Any]
# How the in-call waits happen; tests may swap it to keep time out of them.
sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Outcome:
    """One message's final outcome: delivered, or failed with the integration
    error code and why (``attempts``: how many times it was performed)."""

    message_id: str
    delivered: bool
    code: str = ""
    message: str = ""
    attempts: int = 0

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


@dataclass(frozen=True)
class Policy:
    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 5.0
    retry_after_cap: float = 30.0
    chunk_size: int = 1000


def _wait(policy: Policy, attempts: int, results: Sequence[outcomes.Result]) -> float:
    """The longest Retry-After the destination asked for (capped), else the
    backoff's wait after ``attempts`` attempts."""
    asked = [r.retry_after for r in results if r.retry_after is not None]
    if asked:
        return min(max(asked), policy.retry_after_cap)
    return backoff.delay(attempts, base=policy.base_delay, cap=policy.max_delay)


def deliver(
    destination: Destination,
    definition: DestinationDefinition,
    action_key: str,
    resolve: Resolver,
    messages: Sequence[tuple[str, dict[str, Any]]],
    *,
    policy: Policy,
) -> list[Outcome]:
    """One ``Outcome`` per ``(message_id, message)``, in order. Each message is
    mapped by ``resolve`` (the mapping kit; a message its mapping cannot map is
    failed as INVALID_PAYLOAD), then the payloads are performed in chunks of
    ``policy.chunk_size``."""
    action = definition.action(action_key)
    if action is None:
        problem = f"{definition.name} has no action {action_key!r}"
        return [Outcome(mid, False, outcomes.INVALID_SETTINGS, problem) for mid, _ in messages]
    context = actions.Context(definition, action, destination.settings)
    final: list[Outcome | None] = [None] * len(messages)
    pending: list[tuple[int, actions.Send]] = []
    for index, (message_id, message) in enumerate(messages):
        try:
            payload = resolve(message)
            if not isinstance(payload, dict):
                raise ValueError("the field mappings must make an object")
        except Exception as exc:
            failure = outcomes.from_event_error(exc, "the field mappings")
            final[index] = Outcome(message_id, False, failure.code, failure.message)
            continue
        pending.append((index, actions.Send(message_id, payload, str(message.get("type", "")))))
    attempt = 0
    while pending:
        attempt += 1
        retry: list[tuple[int, actions.Send]] = []
        retry_results: list[outcomes.Result] = []
        size = max(1, policy.chunk_size)
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            results = actions.perform(context, [send for _, send in chunk])
            for (index, send), result in zip(chunk, results, strict=True):
                if result.delivered:
                    final[index] = Outcome(send.message_id, True, attempts=attempt)
                elif result.status == outcomes.RETRY and attempt < policy.attempts:
                    retry.append((index, send))
                    retry_results.append(result)
                else:
                    final[index] = Outcome(
                        send.message_id, False, result.code, result.message, attempt
                    )
        if retry:
            sleep(_wait(policy, attempt, retry_results))
        pending = retry
    return [
        o if o is not None else Outcome("", False, outcomes.INTERNAL, "no outcome") for o in final
    ]
