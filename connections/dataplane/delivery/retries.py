"""Retries: claim due *retrying* Delivery rows, send their stored payloads again
(same messageId) and record the new outcome."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from connections import catalog
from connections.dataplane import counters
from connections.dataplane.delivery import actions, outcomes
from connections.dataplane.delivery.outcomes import (
    DESTINATION_DISABLED,
    FILTERED_AT_MAPPING,
    UNKNOWN_INTEGRATION,
)
from connections.dataplane.delivery.records import CHUNK, Outcome, Recorder, chunks
from connections.models import Delivery, Destination, Subscription

logger = logging.getLogger("switchyard.delivery")


def claim_retries(row_ids: Iterable[int]) -> list[Delivery]:
    """The rows among ``row_ids`` that are due and not claimed by a live worker."""
    rows = list(
        Delivery.objects.raw(
            """
            UPDATE connections_delivery SET claim_time = statement_timestamp()
            WHERE id = ANY(%s) AND status = 'retrying'
              AND next_attempt_at <= statement_timestamp() + interval '1 second'
              AND (claim_time IS NULL
                   OR claim_time < statement_timestamp() - make_interval(secs => %s))
            RETURNING *
            """,
            [list(row_ids), settings.DELIVERY_CLAIM_SECONDS],
        )
    )
    return sorted(rows, key=lambda row: row.pk)  # event order, for batched requests


def deliver_retries(row_ids: Sequence[int]) -> dict[str, Any]:
    rows = claim_retries(row_ids)
    if not rows:
        return {"retried": 0}
    groups: dict[tuple[int, int], list[Delivery]] = defaultdict(list)
    for row in rows:
        groups[(row.destination_id, row.subscription_id)].append(row)
    destinations = Destination.objects.select_related("source").in_bulk({d for d, _ in groups})
    subscriptions = Subscription.objects.in_bulk({s for _, s in groups})
    recorder = Recorder()
    dropped = Recorder()
    retried = 0
    tally: Counter[str] = Counter()
    for (destination_id, subscription_id), members in groups.items():
        destination = destinations.get(destination_id)
        subscription = subscriptions.get(subscription_id)
        reason = ""
        if destination is None or not destination.enabled or not destination.source.enabled:
            reason = DESTINATION_DISABLED
        elif subscription is None or not subscription.enabled:
            reason = FILTERED_AT_MAPPING
        definition = catalog.destination(destination.definition) if destination else None
        action = definition.action(subscription.action) if definition and subscription else None
        if reason or definition is None or action is None or destination is None:
            for row in members:
                dropped.count(
                    row.workspace_id,
                    row.source_id,
                    destination_id,
                    "filtered",
                    reason or UNKNOWN_INTEGRATION,
                )
            with transaction.atomic():
                counters.add(dropped.counts)
                Delivery.objects.filter(pk__in=[r.pk for r in members]).delete()
            dropped.counts.clear()
            continue
        context = actions.Context(definition, action, destination.settings)
        for chunk in chunks(members, CHUNK):
            results = actions.perform(
                context,
                [actions.Send(r.message_id, r.payload or {}, r.event_type) for r in chunk],
            )
            recorder.flush(
                [
                    Outcome(
                        workspace_id=r.workspace_id,
                        source_id=r.source_id,
                        destination_id=destination_id,
                        subscription_id=subscription_id,
                        event_id=r.event_id,
                        received_at=r.event_received_at,
                        message_id=r.message_id,
                        event_type=r.event_type,
                        event_name=r.event_name,
                        result=result,
                        payload=r.payload,
                        attempts=r.attempts + 1,
                        row_id=r.pk,
                    )
                    for r, result in zip(chunk, results, strict=True)
                ]
            )
            retried += len(chunk)
            tally.update(outcomes.tally_of(result) for result in results)
    if retried:
        logger.info("delivery retries: %d attempted: %s", retried, outcomes.summary_line(tally))
    return {"retried": retried}
