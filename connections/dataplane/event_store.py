"""Daily partitions of the event table: created ahead by beat, dropped after
the retention period. A DEFAULT partition catches anything outside them, so an
accepted event is stored even if beat has not run for days."""

from __future__ import annotations

import datetime as dt

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from connections.dataplane.delivery.claims import StoredEvent

TABLE = "connections_event"
PREFIX = f"{TABLE}_p"


def events_table() -> str:
    """The event table's name, for higher layers that keep (id, received_at)
    references to stored events and join them in their own SQL (engage's
    audience and computed-trait compiler reads payloads this way). Join on both
    columns: received_at lets PostgreSQL read only those days' partitions."""
    return TABLE


def _name(day: dt.date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def existing_partitions() -> dict[str, dt.date]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE parent.relname = %s AND child.relname LIKE %s
            """,
            [TABLE, f"{PREFIX}%"],
        )
        names = [row[0] for row in cursor.fetchall()]
    return {n: dt.datetime.strptime(n[len(PREFIX) :], "%Y%m%d").date() for n in names}


def ensure_partitions(days_ahead: int | None = None, *, today: dt.date | None = None) -> list[str]:
    """Create today's partition and the next ``days_ahead`` days'; returns the new ones.

    A day whose rows already sit in the DEFAULT partition is moved into its own
    partition in the same transaction (PostgreSQL refuses to attach otherwise)."""
    ahead = settings.EVENT_PARTITIONS_AHEAD_DAYS if days_ahead is None else days_ahead
    start = today or timezone.now().date()
    have = existing_partitions()
    created = []
    for offset in range(ahead + 1):
        day = start + dt.timedelta(days=offset)
        name = _name(day)
        if name in have:
            continue
        low, high = day.isoformat(), (day + dt.timedelta(days=1)).isoformat()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE}_default IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
            # Names are our constants and dates; values go as parameters.
            move = (
                f"WITH moved AS (DELETE FROM {TABLE}_default WHERE received_at >= %s "  # noqa: S608
                f"AND received_at < %s RETURNING *) INSERT INTO {name} SELECT * FROM moved"
            )
            cursor.execute(move, [low, high])
            cursor.execute(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {name} "
                f"FOR VALUES FROM ('{low}') TO ('{high}')"
            )
        created.append(name)
    return created


def drop_expired_partitions(
    retention_days: int | None = None, *, today: dt.date | None = None
) -> list[str]:
    """Drop whole days older than the retention period (default 30 days)."""
    keep = settings.EVENT_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = (today or timezone.now().date()) - dt.timedelta(days=keep)
    dropped = []
    for name, day in sorted(existing_partitions().items()):
        if day < cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            dropped.append(name)
    if dropped:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {TABLE}_default WHERE received_at < %s",  # noqa: S608
                [dt.datetime.combine(cutoff, dt.time(), tzinfo=dt.UTC)],
            )
    return dropped


DEDUPE_WINDOW = dt.timedelta(hours=24)


def forget_old_messages(now: dt.datetime | None = None) -> int:
    """MessageIds older than the dedupe window may be stored again."""
    from connections.models import EventMessage

    cutoff = (now or timezone.now()) - DEDUPE_WINDOW
    deleted, _ = EventMessage.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def maintain_event_store() -> dict[str, object]:
    """Partitions ahead, expired days dropped, old messageIds forgotten (hourly)."""
    return {
        "created": ensure_partitions(),
        "dropped": drop_expired_partitions(),
        "forgotten": forget_old_messages(),
    }


def source_events(
    source_id: int,
    *,
    since: dt.datetime,
    until: dt.datetime,
    after: tuple[dt.datetime, int] | None = None,
    limit: int = 1000,
) -> list[StoredEvent]:
    """A source's stored events received in [since, until), oldest first, the
    page after ``after`` ((received_at, id) of the last one read): what a replay
    of the source reads (the engage app backfilling a space)."""
    low_time, low_id = after if after is not None else (since, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, received_at, message_id, type, event_name, payload::text
            FROM connections_event
            WHERE source_id = %s AND received_at >= %s AND received_at < %s
              AND (received_at, id) > (%s, %s)
            ORDER BY received_at, id LIMIT %s
            """,
            [source_id, since, until, low_time, low_id, limit],
        )
        rows = cursor.fetchall()
    return [StoredEvent(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5])) for r in rows]


def stored_payloads(refs: list[tuple[dt.datetime, int]]) -> dict[int, dict[str, object]]:
    """The payloads of the events ``refs`` names as (received_at, id) pairs, by id:
    what higher layers that keep references to stored events (engage's profiles)
    read them back with. received_at lets PostgreSQL read only those days'
    partitions. Events no longer stored (retention, erasure) are absent."""
    if not refs:
        return {}
    from connections.models import Event

    times = sorted({received_at for received_at, _ in refs})
    wanted = {event_id: received_at for received_at, event_id in refs}
    rows = Event.objects.filter(received_at__in=times, id__in=list(wanted)).values_list(
        "id", "received_at", "payload"
    )
    return {i: payload for i, received_at, payload in rows if wanted[i] == received_at}
