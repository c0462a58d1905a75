"""Detection on ingest: the batch observer that fills the Inbox.

``PrivacyConfig.ready`` registers ``observe_batch`` with the data plane's
``connections.dataplane.observers``: the delivery worker calls it once per
delivery batch, after the Tracking API's commit, so scanning never slows ingest.
For each event it lists the field paths under ``context``, ``traits`` and
``properties`` (the data fields: values that are not objects, plus any object a
matcher flags, say ``traits.address``) and the highest recommendation of the
matchers that flag each one (Red > Yellow; none: Green). A path the Inventory
classified takes the Inventory's classification instead: once classified in
one source, the same path from any source or event type is classified alike.
The batch's rows are aggregated per (path, event type, event name) and upserted
in one statement, with each row's sample: the field's value as last seen (cut
short by ``privacy.samples.excerpt``) and whose it was (the event's userId, or
"" for an anonymous event), so a deletion regulation can erase it with the user.

The workspace's Detector is compiled once and kept per process; one cheap
query per batch (count and latest change of its custom matchers) tells when
to compile it again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from django.db import connection

from connections.dataplane.observers import BatchEvent
from privacy.matching import Classification, Detector, Matcher, effective, fields
from privacy.matching.defaults import DEFAULT_MATCHERS
from privacy.models import PiiMatcher
from privacy.models.fields import GREEN
from privacy.samples import excerpt

RANK = {Classification.RED.value: 2, Classification.YELLOW.value: 1, GREEN: 0}
PATH_MAX = 512  # ObservedField.path
NAME_MAX = 256  # ObservedField.event_name
TYPE_MAX = 16
USER_ID_MAX = 256  # ObservedField.sample_user_id
CACHE_MAX = 512  # workspaces whose Detector a worker keeps


@dataclass(frozen=True)
class _Compiled:
    stamp: tuple[Any, ...]
    detector: Detector
    classification: dict[str, str]  # matcher id -> RED | YELLOW


_cache: dict[str, _Compiled] = {}
_lock = threading.Lock()


def _stamp(workspace_id: str) -> tuple[Any, ...]:
    """What changes whenever the workspace's custom matchers do (create, update, delete)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), max(update_time) FROM privacy_piimatcher WHERE workspace_id = %s",
            [workspace_id],
        )
        row = cursor.fetchone()
    return tuple(row) if row else ()


def compiled_for(workspace_id: str) -> _Compiled:
    stamp = _stamp(workspace_id)
    with _lock:
        found = _cache.get(workspace_id)
    if found is not None and found.stamp == stamp:
        return found
    customs = PiiMatcher.objects.filter(workspace_id=workspace_id).order_by("create_time", "pk")
    matchers: list[Matcher] = effective(DEFAULT_MATCHERS, [row.as_matcher() for row in customs])
    fresh = _Compiled(stamp, Detector(matchers), {m.id: m.classification.value for m in matchers})
    with _lock:
        if len(_cache) >= CACHE_MAX:
            _cache.pop(next(iter(_cache)))
        _cache[workspace_id] = fresh
    return fresh


@dataclass
class _Seen:
    count: int
    first: dt.datetime
    last: dt.datetime
    recommended: str
    matcher_id: str
    value: Any  # the value as last seen, whole: cut once per row, when upserting
    user_id: str


class _Found(NamedTuple):
    recommended: str
    matcher_id: str
    value: Any  # the last occurrence in the event (array items share their path)


def _is_data(value: Any) -> bool:
    """A field that carries values itself: not an object, nor a list of objects."""
    if isinstance(value, Mapping):
        return False
    return not (isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value))


def recommendations(compiled: _Compiled, payload: Mapping[str, Any]) -> dict[str, _Found]:
    """``{path: (recommendation, matcher id, value)}`` for one event's data fields."""
    flagged: dict[str, tuple[str, str]] = {}
    for matcher_id, paths in compiled.detector.detect(payload).items():
        level = compiled.classification.get(matcher_id, GREEN)
        for path in paths:
            held = flagged.get(path)
            if held is None or RANK[level] > RANK[held[0]]:
                flagged[path] = (level, matcher_id)
    found: dict[str, _Found] = {}
    for item in fields(payload):
        if item.path in flagged:
            found[item.path] = _Found(*flagged[item.path], item.value)
        elif _is_data(item.value):
            found[item.path] = _Found(GREEN, "", item.value)
    return found


def _user_id(payload: Mapping[str, Any]) -> str:
    user_id = payload.get("userId")  # the Tracking API stores it as a string
    return user_id[:USER_ID_MAX] if isinstance(user_id, str) else ""


def aggregate(
    compiled: _Compiled, events: Sequence[BatchEvent]
) -> dict[tuple[str, str, str], _Seen]:
    seen: dict[tuple[str, str, str], _Seen] = {}
    for event in events:
        kind, name = event.type[:TYPE_MAX], (event.event_name or "")[:NAME_MAX]
        user_id = _user_id(event.payload)
        for path, (level, matcher_id, value) in recommendations(compiled, event.payload).items():
            if len(path) > PATH_MAX:
                continue
            key = (path, kind, name)
            row = seen.get(key)
            at = event.received_at
            if row is None:
                seen[key] = _Seen(1, at, at, level, matcher_id, value, user_id)
                continue
            row.count += 1
            row.first = min(row.first, at)
            if at >= row.last:  # a tie: the later event in the batch
                row.last, row.value, row.user_id = at, value, user_id
            if RANK[level] > RANK[row.recommended]:
                row.recommended, row.matcher_id = level, matcher_id
    return seen


# Sorted input locks rows in one order, so concurrent batches of a source cannot deadlock.
# A batch observed after a later one (a retried claim) keeps the later sample.
UPSERT = """
INSERT INTO privacy_observedfield (workspace_id, source_id, path, event_type, event_name,
    sample_count, first_seen, last_seen, recommended, matcher_id, sample, sample_user_id)
SELECT %(workspace)s, %(source)s, r.path, r.type, r.name, r.n, r.first, r.last,
    COALESCE(i.classification, r.recommended), r.matcher, r.sample::jsonb, r.user_id
FROM unnest(%(paths)s::text[], %(types)s::text[], %(names)s::text[], %(counts)s::bigint[],
    %(firsts)s::timestamptz[], %(lasts)s::timestamptz[], %(recommended)s::text[],
    %(matchers)s::text[], %(samples)s::text[], %(user_ids)s::text[])
    AS r(path, type, name, n, first, last, recommended, matcher, sample, user_id)
LEFT JOIN privacy_inventoryfield i ON i.workspace_id = %(workspace)s AND i.path = r.path
ORDER BY r.path, r.type, r.name
ON CONFLICT (source_id, path, event_type, event_name) DO UPDATE SET
    sample_count = privacy_observedfield.sample_count + EXCLUDED.sample_count,
    first_seen = LEAST(privacy_observedfield.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(privacy_observedfield.last_seen, EXCLUDED.last_seen),
    recommended = EXCLUDED.recommended,
    matcher_id = EXCLUDED.matcher_id,
    sample = CASE WHEN EXCLUDED.last_seen >= privacy_observedfield.last_seen
        THEN EXCLUDED.sample ELSE privacy_observedfield.sample END,
    sample_user_id = CASE WHEN EXCLUDED.last_seen >= privacy_observedfield.last_seen
        THEN EXCLUDED.sample_user_id ELSE privacy_observedfield.sample_user_id END
"""


def observe_batch(workspace_id: str, source_id: int, events: Sequence[BatchEvent]) -> int:
    """Record what a batch's events carried; returns the number of rows upserted."""
    if not events:
        return 0
    seen = aggregate(compiled_for(workspace_id), events)
    if not seen:
        return 0
    keys = sorted(seen)
    rows = [seen[k] for k in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            UPSERT,
            {
                "workspace": workspace_id,
                "source": source_id,
                "paths": [k[0] for k in keys],
                "types": [k[1] for k in keys],
                "names": [k[2] for k in keys],
                "counts": [r.count for r in rows],
                "firsts": [r.first for r in rows],
                "lasts": [r.last for r in rows],
                "recommended": [r.recommended for r in rows],
                "matchers": [r.matcher_id for r in rows],
                "samples": [_json(excerpt(r.value)) for r in rows],
                "user_ids": [r.user_id for r in rows],
            },
        )
    return len(keys)


def _json(value: Any) -> str | None:
    # A value that is null stores no sample (SQL NULL), as an erased one.
    return None if value is None else orjson.dumps(value).decode()


# Locked in the upsert's order (per source: path, type, name), so erasing cannot
# deadlock with a batch being observed.
ERASE = """
UPDATE privacy_observedfield o SET sample = NULL, sample_user_id = ''
FROM (
    SELECT id FROM privacy_observedfield
    WHERE workspace_id = %(workspace)s AND sample_user_id = ANY(%(users)s::text[])
        AND sample_user_id <> ''
    ORDER BY path, event_type, event_name, source_id
    FOR UPDATE
) doomed
WHERE o.id = doomed.id
"""


def erase_samples(workspace_id: str, user_ids: Sequence[str]) -> int:
    """Clear the samples these users' events left in the Inbox (a deletion
    regulation's step, after their events); returns how many were cleared."""
    if not user_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(ERASE, {"workspace": workspace_id, "users": list(user_ids)})
        return int(cursor.rowcount)
