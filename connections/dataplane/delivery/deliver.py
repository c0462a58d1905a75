"""Delivering a batch: the events of a DeliveryBatch to the enabled destinations
of their source.

A batch run, step by step:

1. Claim the batch (one UPDATE): nobody else holds a fresh claim, or skip. A
   worker that dies leaves its claim to expire; the sweep queues the batch again.
2. Load its events (one partition: ``received_at`` is the batch's) and the
   source's enabled destinations; a disabled or deleted source delivers nothing.
   On the batch's first claim the registered ``observers`` read the events
   (privacy detection: after the ingest commit, a batch at a time).
3. Per destination, compiled once for the batch (filters, triggers, mappings):
   per event the ``integrations`` object, then ``connections.rules.route``; each
   mapping that matched is sent by its action's performer (batched where the action
   batches). An error in one event (its filters, trigger, mapping or request)
   is that event's outcome at that destination: the batch goes on. Outcomes are
   written as they come, in chunks, with their counters, and the claim is
   renewed: a re-run skips what already has an outcome.
4. Delete the batch (and its *delivered* records, which only served re-runs),
   adding the *filtered* counters, in one transaction.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any

from django.db import connection, transaction

from connections.dataplane import counters, observers
from connections.dataplane.counters import Key
from connections.dataplane.delivery import actions, outcomes
from connections.dataplane.delivery.claims import (
    Claimed,
    StoredEvent,
    claim_batch,
    load_events,
    renew_claim,
)
from connections.dataplane.delivery.compiled import Plan, plans_of
from connections.dataplane.delivery.outcomes import (
    FILTERED_BY_INTEGRATIONS_OBJECT,
    UNKNOWN_INTEGRATION,
    Result,
)
from connections.dataplane.delivery.records import CHUNK, Outcome, Recorder, chunks
from connections.models import Source
from connections.rules import NO_MATCHING_MAPPING, REASON_FILTERED, route

logger = logging.getLogger("switchyard.delivery")

# --- the integrations object ---------------------------------------------------------------


def integrations_allow(event: dict[str, Any], name: str) -> bool:
    """Segment's ``integrations`` option: a key naming the destination (its catalog
    name, case-sensitive) decides; otherwise ``All``; ``false`` is the only no (an
    options object means yes)."""
    chosen = event.get("integrations")
    if not isinstance(chosen, dict) or not chosen:
        return True
    if name in chosen:
        return chosen[name] is not False
    return chosen.get("All", True) is not False


# --- a batch -------------------------------------------------------------------------------


def deliver_batch(batch_id: int) -> dict[str, Any]:
    claimed = claim_batch(batch_id)
    if claimed is None:
        return {"batch": batch_id, "skipped": "finished or claimed by another worker"}
    source = Source.objects.filter(pk=claimed.source_id).only("id", "workspace_id", "enabled")
    found = source.first()
    if found is None or not found.enabled:
        _finish(batch_id, Counter())
        return {"batch": batch_id, "skipped": "source disabled or deleted"}
    plans = plans_of(found.pk)
    # Observers (privacy detection) see a batch once: on its first claim.
    observe = claimed.attempts == 1 and observers.active()
    events = load_events(claimed.received_at, claimed.event_ids) if plans or observe else []
    if observe:
        observers.notify(
            found.workspace_id,
            found.pk,
            [
                observers.BatchEvent(e.id, e.type, e.event_name, e.payload, e.received_at)
                for e in events
            ],
        )
    done: set[tuple[int, int, int]] = set()
    if claimed.attempts > 1 and plans:  # a re-run: skip what already has an outcome
        done = _outcomes_of(batch_id, claimed.event_ids)
    filtered = Recorder()
    recorder = Recorder()
    tally: Counter[str] = Counter()
    for plan in plans:
        _deliver_to(plan, found.workspace_id, events, done, filtered, recorder, claimed, tally)
    _finish(batch_id, filtered.counts)
    summary = {
        "batch": batch_id,
        "events": len(events),
        "destinations": len(plans),
        # Attempts by outcome: an event the SSRF guard refused was never sent.
        "attempted": sum(tally.values()),
        "delivered": tally["delivered"],
        "refused": tally["refused"],
        "retrying": tally["retrying"],
        "failed": tally["failed"],
        "filtered": sum(filtered.counts.values()),
    }
    if plans:
        logger.info(
            "delivery batch %s: %d event(s) to %d destination(s): %s, filtered %d",
            batch_id,
            len(events),
            len(plans),
            outcomes.summary_line(tally),
            summary["filtered"],
        )
    return summary


def _outcomes_of(batch_id: int, event_ids: list[int]) -> set[tuple[int, int, int]]:
    """(event, destination, subscription) that a earlier run of the batch settled."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT unnest(event_ids), destination_id, subscription_id
            FROM connections_deliveryprogress WHERE batch_id = %s
            UNION ALL
            SELECT event_id, destination_id, subscription_id
            FROM connections_delivery WHERE event_id = ANY(%s)
            """,
            [batch_id, event_ids],
        )
        return {(e, d, s) for e, d, s in cursor.fetchall()}


def _finish(batch_id: int, filtered: Counter[Key]) -> None:
    """The batch is done: its filtered counters, and it goes with its progress."""
    with transaction.atomic(), connection.cursor() as cursor:
        counters.add(filtered)
        cursor.execute("DELETE FROM connections_deliveryprogress WHERE batch_id = %s", [batch_id])
        cursor.execute("DELETE FROM connections_deliverybatch WHERE id = %s", [batch_id])


def _deliver_to(
    plan: Plan,
    workspace_id: str,
    events: list[StoredEvent],
    done: set[tuple[int, int, int]],
    filtered: Recorder,
    recorder: Recorder,
    claimed: Claimed,
    tally: Counter[str],
) -> None:
    """Deliver ``events`` to one destination; ``tally`` counts the attempts by outcome."""
    destination = plan.destination
    source_id = claimed.source_id

    def drop(reason: str) -> None:
        filtered.count(workspace_id, source_id, destination.pk, "filtered", reason)

    if plan.definition is None:
        for _ in events:
            drop(UNKNOWN_INTEGRATION)
        return
    definition = plan.definition
    queued: dict[str, list[tuple[StoredEvent, dict[str, Any]]]] = defaultdict(list)
    broken: list[Outcome] = []
    for event in events:
        try:
            if not integrations_allow(event.payload, definition.name):
                drop(FILTERED_BY_INTEGRATIONS_OBJECT)
                continue
            routed = route(plan.filters, plan.rules, event.payload)
        except Exception as exc:  # the event's outcome at each mapping, not the batch's end
            failure = outcomes.from_event_error(exc, "the destination's filters")
            for rule in plan.rules:
                subscription_id = plan.subscription_ids.get(rule.key)
                if not rule.enabled or subscription_id is None:
                    continue
                if (event.id, destination.pk, subscription_id) in done:
                    continue
                broken.append(
                    _outcome(
                        workspace_id,
                        source_id,
                        destination.pk,
                        subscription_id,
                        event,
                        failure,
                        None,
                    )
                )
            continue
        if routed.event is None:
            drop(routed.reason or REASON_FILTERED)
            continue
        errors = [m for m in routed.mappings if m.error and m.rule.enabled]
        if not routed.sent and not errors:
            drop(routed.reason or NO_MATCHING_MAPPING)
            continue
        for match in routed.sent:
            subscription_id = plan.subscription_ids.get(match.rule.key)
            if subscription_id is None or (event.id, destination.pk, subscription_id) in done:
                continue
            queued[match.rule.key].append((event, match.payload))
        for match in errors:  # a stored mapping that no longer compiles or evaluates
            subscription_id = plan.subscription_ids.get(match.rule.key)
            if subscription_id is None or (event.id, destination.pk, subscription_id) in done:
                continue
            if match.exception is not None:  # this event's content, not the mapping
                failure = outcomes.from_event_error(match.exception, f"mapping {match.rule.name!r}")
            else:
                problem = f"mapping {match.rule.name!r} cannot run: {match.error}"
                failure = outcomes.failed(outcomes.INVALID_SETTINGS, problem)
            broken.append(
                _outcome(
                    workspace_id,
                    source_id,
                    destination.pk,
                    subscription_id,
                    event,
                    failure,
                    None,
                )
            )
    recorder.flush(broken)
    tally.update(outcomes.tally_of(o.result) for o in broken)
    rules = {rule.key: rule for rule in plan.rules}
    for key, items in queued.items():
        rule = rules[key]
        subscription_id = plan.subscription_ids[key]
        action = definition.action(rule.action)
        for chunk in chunks(items, CHUNK):
            if action is None:
                problem = f"{definition.name} has no action {rule.action!r}"
                results = [outcomes.failed(outcomes.INVALID_SETTINGS, problem) for _ in chunk]
            else:
                context = actions.Context(definition, action, destination.settings)
                results = actions.perform(
                    context,
                    [actions.Send(e.message_id, payload, e.type) for e, payload in chunk],
                )
            recorder.flush(
                [
                    _outcome(
                        workspace_id,
                        source_id,
                        destination.pk,
                        subscription_id,
                        event,
                        result,
                        payload,
                        claimed.id,
                    )
                    for (event, payload), result in zip(chunk, results, strict=True)
                ]
            )
            renew_claim(claimed.id)
            tally.update(outcomes.tally_of(result) for result in results)


def _outcome(
    workspace_id: str,
    source_id: int,
    destination_id: int,
    subscription_id: int,
    event: StoredEvent,
    result: Result,
    payload: dict[str, Any] | None,
    batch_id: int | None = None,
) -> Outcome:
    return Outcome(
        workspace_id=workspace_id,
        source_id=source_id,
        destination_id=destination_id,
        subscription_id=subscription_id,
        event_id=event.id,
        received_at=event.received_at,
        message_id=event.message_id,
        event_type=event.type,
        event_name=event.event_name,
        result=result,
        payload=payload,
        batch_id=batch_id,
    )
