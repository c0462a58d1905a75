"""Delivery: events of a DeliveryBatch to the enabled destinations of their
source, and retries of what failed transiently.

A batch run, step by step:

1. Claim the batch (one UPDATE): nobody else holds a fresh claim, or skip. A
   worker that dies leaves its claim to expire; the sweep queues the batch again.
2. Load its events (one partition: ``received_at`` is the batch's) and the
   source's enabled destinations; a disabled or deleted source delivers nothing.
3. Per destination, compiled once for the batch (filters, triggers, mappings):
   per event the ``integrations`` object, then ``route``; each mapping
   that matched is sent by its action's performer (batched where the action
   batches). Outcomes are written as they come, in chunks, with their counters,
   and the claim is renewed: a re-run skips what already has an outcome.
4. Delete the batch (and its *delivered* records, which only served re-runs),
   adding the *filtered* counters, in one transaction.

Retries (``deliver_retries``) claim due *retrying* rows, send their stored
payloads again (same messageId) and record the new outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from connections import catalog
from connections.catalog import DestinationDefinition
from connections.dataplane import counters
from connections.dataplane.counters import Key
from connections.dataplane.delivery import actions, outcomes
from connections.dataplane.delivery.compiled import filters_of, rules_of
from connections.dataplane.delivery.outcomes import Result
from connections.models import Delivery, Destination, Source, Subscription
from connections.rules import (
    NO_MATCHING_MAPPING,
    REASON_FILTERED,
    CompiledFilters,
    MappingRule,
    route,
)
from switchyard import task_names

logger = logging.getLogger("switchyard.delivery")

DELIVER_BATCH = task_names.DELIVER_BATCH
DELIVER_RETRIES = task_names.DELIVER_RETRIES
STAGE = "delivery"
# Outcomes are written (and the claim renewed) at least every this many sends.
CHUNK = 500
# A batch claimed this many times without finishing is left alone by the sweep
# (it kills its worker every time); it stays in the outbox for a person to see.
MAX_BATCH_CLAIMS = 10
# Retries due within this many seconds are queued at once with a countdown; later
# ones are found by the sweep (Celery holds countdown tasks in worker memory).
EAGER_RETRY_SECONDS = 300

FILTERED_BY_INTEGRATIONS_OBJECT = "FILTERED_BY_INTEGRATIONS_OBJECT"
UNKNOWN_INTEGRATION = "UNKNOWN_INTEGRATION"
FILTERED_AT_MAPPING = "FILTERED_AT_MAPPING"
# Ours: a retry found its destination (or source) disabled since the first attempt.
DESTINATION_DISABLED = "DESTINATION_DISABLED"


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


# --- loading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    id: int
    received_at: dt.datetime
    message_id: str
    type: str
    event_name: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    id: int
    source_id: int
    received_at: dt.datetime
    event_ids: list[int]
    attempts: int


def claim_batch(batch_id: int) -> Claimed | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE connections_deliverybatch
            SET claim_time = statement_timestamp(), attempts = attempts + 1
            WHERE id = %s
              AND (claim_time IS NULL
                   OR claim_time < statement_timestamp() - make_interval(secs => %s))
            RETURNING id, source_id, received_at, event_ids, attempts
            """,
            [batch_id, settings.DELIVERY_CLAIM_SECONDS],
        )
        row = cursor.fetchone()
    return Claimed(*row) if row else None


def renew_claim(batch_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_deliverybatch SET claim_time = statement_timestamp() WHERE id = %s",
            [batch_id],
        )


def load_events(received_at: dt.datetime, ids: Sequence[int]) -> list[StoredEvent]:
    """The batch's events, from the one partition ``received_at`` falls in."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, received_at, message_id, type, event_name, payload::text
            FROM connections_event WHERE received_at = %s AND id = ANY(%s) ORDER BY id
            """,
            [received_at, list(ids)],
        )
        rows = cursor.fetchall()
    return [StoredEvent(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5])) for r in rows]


@dataclass
class Plan:
    """A destination compiled once for a batch: filters, mapping rules, actions."""

    destination: Destination
    definition: DestinationDefinition | None
    filters: CompiledFilters
    rules: list[MappingRule]
    subscription_ids: dict[str, int]

    @classmethod
    def of(cls, destination: Destination) -> Plan:
        rules = rules_of(destination)
        return cls(
            destination=destination,
            definition=catalog.destination(destination.definition),
            filters=filters_of(destination),
            rules=rules,
            subscription_ids=dict(destination.subscriptions.values_list("key_id", "id")),
        )


# Compiled plans per worker process, reused while nothing about the destination,
# its mappings or its filters changed (the signature covers every column of them).
_PLANS: dict[int, tuple[str, Plan]] = {}
_PLANS_MAX = 1000

SIGNATURES = """
SELECT d.id, md5(row_to_json(d)::text
    || coalesce((SELECT string_agg(row_to_json(s)::text, ',' ORDER BY s.id)
                 FROM connections_subscription s WHERE s.destination_id = d.id), '')
    || '#'
    || coalesce((SELECT string_agg(row_to_json(f)::text, ',' ORDER BY f.id)
                 FROM connections_destinationfilter f WHERE f.destination_id = d.id), ''))
FROM connections_destination d
WHERE d.source_id = %s AND d.enabled
ORDER BY d.id
"""


def plans_of(source_id: int) -> list[Plan]:
    """The source's enabled destinations, compiled (or reused from this process)."""
    with connection.cursor() as cursor:
        cursor.execute(SIGNATURES, [source_id])
        signatures = cursor.fetchall()
    stale = [pk for pk, signature in signatures if _PLANS.get(pk, ("",))[0] != signature]
    if stale:
        if len(_PLANS) + len(stale) > _PLANS_MAX:
            _PLANS.clear()
        fresh = Destination.objects.in_bulk(stale)
        for pk, signature in signatures:
            if pk in fresh:
                _PLANS[pk] = (signature, Plan.of(fresh[pk]))
    return [_PLANS[pk][1] for pk, _ in signatures if pk in _PLANS]


# --- recording -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """A result to record for (event, destination, subscription)."""

    workspace_id: str
    source_id: int
    destination_id: int
    subscription_id: int
    event_id: int
    received_at: dt.datetime
    message_id: str
    event_type: str
    event_name: str
    result: Result
    payload: dict[str, Any] | None
    attempts: int = 1
    row_id: int | None = None  # a retry's Delivery row
    batch_id: int | None = None  # the outbox batch of a first attempt


@dataclass
class Recorder:
    """Turns results into Delivery rows and counters, one transaction per flush."""

    counts: Counter[Key] = field(default_factory=Counter)

    def count(
        self, workspace: str, source: int, destination: int, outcome: str, reason: str = ""
    ) -> None:
        self.counts[Key(workspace, source, STAGE, outcome, reason, destination)] += 1

    def flush(self, items: list[Outcome], *, now: dt.datetime | None = None) -> None:
        if not items:
            return
        now = now or timezone.now()
        upserts: list[tuple[Outcome, str, dt.datetime | None, str]] = []
        delivered_retries: list[int] = []
        progress: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        due: dict[dt.datetime, list[int]] = defaultdict(list)
        when_of: dict[tuple[int, float | None], dt.datetime | None] = {}
        counts: Counter[Key] = Counter()
        for item in items:
            result = item.result
            ws, src, dst = item.workspace_id, item.source_id, item.destination_id
            if result.delivered:
                counts[Key(ws, src, STAGE, "delivered", "", dst)] += 1
                if item.row_id is not None:
                    delivered_retries.append(item.row_id)
                elif item.batch_id is not None:
                    group = (item.batch_id, item.destination_id, item.subscription_id)
                    progress[group].append(item.event_id)
                else:
                    upserts.append((item, Delivery.Status.DELIVERED, None, ""))
                continue
            if result.status == outcomes.RETRY:
                # One backoff draw per (attempts, Retry-After) in a flush: what
                # failed together is retried together (and batched again).
                slot = (item.attempts, result.retry_after)
                if slot not in when_of:
                    when_of[slot] = outcomes.next_attempt(
                        item.attempts, item.received_at, now, result.retry_after
                    )
                when = when_of[slot]
                window_end = item.received_at + dt.timedelta(seconds=settings.DELIVERY_RETRY_WINDOW)
                if when is not None and when <= window_end:
                    counts[Key(ws, src, STAGE, "retrying", result.code, dst)] += 1
                    upserts.append((item, Delivery.Status.RETRYING, when, ""))
                    continue
                note = f" (gave up after {item.attempts} attempt(s))"
                counts[Key(ws, src, STAGE, "failed", result.code, dst)] += 1
                upserts.append((item, Delivery.Status.FAILED, None, note))
                continue
            counts[Key(ws, src, STAGE, "failed", result.code, dst)] += 1
            upserts.append((item, Delivery.Status.FAILED, None, ""))
        with transaction.atomic():
            ids = self._upsert(upserts, now)
            with connection.cursor() as cursor:
                if delivered_retries:
                    cursor.execute(
                        "DELETE FROM connections_delivery WHERE id = ANY(%s)", [delivered_retries]
                    )
                if progress:
                    cursor.executemany(
                        """
                        INSERT INTO connections_deliveryprogress
                            (batch_id, destination_id, subscription_id, event_ids)
                        VALUES (%s, %s, %s, %s)
                        """,
                        [(*group, event_ids) for group, event_ids in progress.items()],
                    )
            counters.add(counts, at=now)
            for (_item, status, when, _note), row_id in zip(upserts, ids, strict=True):
                if status == Delivery.Status.RETRYING and when is not None:
                    due[when].append(row_id)
            for when, row_ids in due.items():
                delay = (when - now).total_seconds()
                if delay <= EAGER_RETRY_SECONDS:
                    transaction.on_commit(partial(_enqueue_retries, row_ids, delay), robust=True)

    @staticmethod
    def _upsert(
        upserts: list[tuple[Outcome, str, dt.datetime | None, str]], now: dt.datetime
    ) -> list[int]:
        if not upserts:
            return []

        def dumps(value: Any) -> str | None:
            return None if value is None else orjson.dumps(value).decode()

        columns: dict[str, list[Any]] = defaultdict(list)
        for item, status, when, note in upserts:
            keep = status != Delivery.Status.DELIVERED
            result = item.result
            columns["workspace"].append(item.workspace_id)
            columns["source"].append(item.source_id)
            columns["destination"].append(item.destination_id)
            columns["subscription"].append(item.subscription_id)
            columns["event"].append(item.event_id)
            columns["received"].append(item.received_at)
            columns["message"].append(item.message_id)
            columns["type"].append(item.event_type)
            columns["name"].append(item.event_name[:256])
            columns["status"].append(status)
            columns["attempts"].append(item.attempts)
            columns["code"].append(result.code[:64])
            columns["text"].append((result.message + note) if keep else "")
            keep_payload = status == Delivery.Status.RETRYING
            columns["payload"].append(dumps(item.payload) if keep_payload else None)
            columns["request"].append(dumps(result.request) if keep else None)
            columns["response"].append(dumps(result.response) if keep else None)
            columns["next"].append(when)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO connections_delivery (workspace_id, source_id, destination_id,
                    subscription_id, event_id, event_received_at, message_id, event_type,
                    event_name, status, attempts, code, message, payload, request, response,
                    next_attempt_at, claim_time, create_time, update_time)
                SELECT r.workspace, r.source, r.destination, r.subscription, r.event,
                    r.received, r.message, r.type, r.name, r.status, r.attempts, r.code,
                    r.text, r.payload::jsonb, r.request::jsonb, r.response::jsonb, r.next,
                    NULL, %s, %s
                FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[],
                    %s::bigint[], %s::timestamptz[], %s::text[], %s::text[], %s::text[],
                    %s::text[], %s::int[], %s::text[], %s::text[], %s::text[], %s::text[],
                    %s::text[], %s::timestamptz[])
                    AS r(workspace, source, destination, subscription, event, received, message,
                        type, name, status, attempts, code, text, payload, request, response,
                        next)
                ON CONFLICT (event_id, destination_id, subscription_id) DO UPDATE SET
                    status = EXCLUDED.status, attempts = EXCLUDED.attempts,
                    code = EXCLUDED.code, message = EXCLUDED.message,
                    payload = EXCLUDED.payload, request = EXCLUDED.request,
                    response = EXCLUDED.response, next_attempt_at = EXCLUDED.next_attempt_at,
                    claim_time = NULL, update_time = EXCLUDED.update_time
                RETURNING id
                """,
                [
                    now,
                    now,
                    *(
                        columns[name]
                        for name in (
                            "workspace",
                            "source",
                            "destination",
                            "subscription",
                            "event",
                            "received",
                            "message",
                            "type",
                            "name",
                            "status",
                            "attempts",
                            "code",
                            "text",
                            "payload",
                            "request",
                            "response",
                            "next",
                        )
                    ),
                ],
            )
            # RETURNING follows the order of the rows inserted from unnest().
            return [row[0] for row in cursor.fetchall()]


def _enqueue_retries(row_ids: list[int], delay: float) -> None:
    from switchyard.celery import app

    app.send_task(DELIVER_RETRIES, args=[row_ids], countdown=max(0.0, delay), queue="default")


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
    events = load_events(claimed.received_at, claimed.event_ids) if plans else []
    done: set[tuple[int, int, int]] = set()
    if claimed.attempts > 1 and plans:  # a re-run: skip what already has an outcome
        done = _outcomes_of(batch_id, claimed.event_ids)
    filtered = Recorder()
    recorder = Recorder()
    sent = 0
    for plan in plans:
        sent += _deliver_to(plan, found.workspace_id, events, done, filtered, recorder, claimed)
    _finish(batch_id, filtered.counts)
    return {
        "batch": batch_id,
        "events": len(events),
        "destinations": len(plans),
        "sent": sent,
        "filtered": sum(filtered.counts.values()),
    }


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
) -> int:
    destination = plan.destination
    source_id = claimed.source_id

    def drop(reason: str) -> None:
        filtered.count(workspace_id, source_id, destination.pk, "filtered", reason)

    if plan.definition is None:
        for _ in events:
            drop(UNKNOWN_INTEGRATION)
        return 0
    definition = plan.definition
    queued: dict[str, list[tuple[StoredEvent, dict[str, Any]]]] = defaultdict(list)
    broken: list[Outcome] = []
    for event in events:
        if not integrations_allow(event.payload, definition.name):
            drop(FILTERED_BY_INTEGRATIONS_OBJECT)
            continue
        routed = route(plan.filters, plan.rules, event.payload)
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
            problem = f"mapping {match.rule.name!r} cannot run: {match.error}"
            broken.append(
                _outcome(
                    workspace_id,
                    source_id,
                    destination.pk,
                    subscription_id,
                    event,
                    outcomes.failed(outcomes.INVALID_SETTINGS, problem),
                    None,
                )
            )
    recorder.flush(broken)
    sent = 0
    rules = {rule.key: rule for rule in plan.rules}
    for key, items in queued.items():
        rule = rules[key]
        subscription_id = plan.subscription_ids[key]
        action = definition.action(rule.action)
        for chunk in _chunks(items, CHUNK):
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
            sent += len(chunk)
    return sent


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


# --- retries -------------------------------------------------------------------------------


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
        for chunk in _chunks(members, CHUNK):
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
    return {"retried": retried}


# --- the sweep -----------------------------------------------------------------------------

SWEEP_BATCHES = 500
SWEEP_RETRIES = 5000
RETRIES_PER_TASK = 500
PRUNE_ROWS = 10_000


def sweep() -> dict[str, int]:
    """Queue again: batches nobody claimed in time (a lost enqueue) or whose claim
    expired (a dead worker), and retries that are due. Forget failed records older
    than the event retention."""
    from switchyard.celery import app

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id FROM connections_deliverybatch
            WHERE attempts < %s AND (
                (claim_time IS NULL
                 AND create_time < statement_timestamp() - make_interval(secs => %s))
                OR claim_time < statement_timestamp() - make_interval(secs => %s))
            ORDER BY id LIMIT %s
            """,
            [
                MAX_BATCH_CLAIMS,
                settings.DELIVERY_UNCLAIMED_SECONDS,
                settings.DELIVERY_CLAIM_SECONDS,
                SWEEP_BATCHES,
            ],
        )
        batches = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT id, destination_id FROM connections_delivery
            WHERE status = 'retrying' AND next_attempt_at <= statement_timestamp()
              AND (claim_time IS NULL
                   OR claim_time < statement_timestamp() - make_interval(secs => %s))
            ORDER BY next_attempt_at LIMIT %s
            """,
            [settings.DELIVERY_CLAIM_SECONDS, SWEEP_RETRIES],
        )
        due: dict[int, list[int]] = defaultdict(list)
        for row_id, destination_id in cursor.fetchall():
            due[destination_id].append(row_id)
        cursor.execute(
            """
            DELETE FROM connections_delivery WHERE id IN (
                SELECT id FROM connections_delivery
                WHERE update_time < statement_timestamp() - make_interval(days => %s)
                  AND status <> 'retrying'
                LIMIT %s)
            """,
            [settings.EVENT_RETENTION_DAYS, PRUNE_ROWS],
        )
        pruned = cursor.rowcount
    for batch_id in batches:
        app.send_task(DELIVER_BATCH, args=[batch_id], queue="default")
    retry_tasks = 0
    for row_ids in due.values():
        for chunk in _chunks(row_ids, RETRIES_PER_TASK):
            app.send_task(DELIVER_RETRIES, args=[list(chunk)], queue="default")
            retry_tasks += 1
    if batches:
        logger.info("delivery sweep: queued %d batch(es) again", len(batches))
    return {"batches": len(batches), "retry_tasks": retry_tasks, "pruned": pruned}
