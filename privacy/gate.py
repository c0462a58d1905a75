"""The privacy ingest gate: standard controls and suppression at the Tracking API.

Registered with ``connections.dataplane.gates`` from ``PrivacyConfig.ready``.
For each request, one statement reads what applies now (nothing is cached, so
a field classified or a user suppressed a moment ago applies from the next
request on, in every process):

- the source behind the write key and its ``SourceControls``;
- the workspace's Inventory paths classified Red (when the source blocks Red)
  or Yellow (when it blocks Yellow): "only fields added to the Data Inventory
  are blocked";
- which of the request's userIds the workspace suppresses.

Then a suppressed userId's messages are dropped (Segment blocks them at the API
silently: the request still answers 200) and blocked fields are removed from
the others' payloads: paths as detection names them (``properties.email``,
``traits.address.city``; arrays without indexes, every item), under
``context``, ``traits`` and ``properties`` only, so the row's id columns never
change. A payload is parsed and written again only when the text holds a
blocked field's key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import orjson
import psycopg
from django.db import connection

from connections.dataplane.gates import Count
from connections.dataplane.tracking.validation import Row
from privacy.matching import SCANNED_ROOTS, Classification

DROPPED = "dropped"
USER_SUPPRESSED = "user_suppressed"
BLOCKED = "blocked"  # outcome of a field count: fields removed, not events
RED_FIELD = "red_field"
YELLOW_FIELD = "yellow_field"
_REASONS = {Classification.RED.value: RED_FIELD, Classification.YELLOW.value: YELLOW_FIELD}
LABELS = {
    (DROPPED, USER_SUPPRESSED): "userId suppressed (Privacy Portal)",
    (BLOCKED, RED_FIELD): "Red fields blocked (privacy controls)",
    (BLOCKED, YELLOW_FIELD): "Yellow fields blocked (privacy controls)",
}

# Inventory rows are per workspace path and few; the suppressed users are looked
# up for this request's userIds only (the unique (workspace, user_id) index).
LOOKUP = """
WITH src AS (
    SELECT s.id, s.workspace_id, s.enabled,
        coalesce(c.block_red, false) AS red, coalesce(c.block_yellow, false) AS yellow
    FROM connections_writekey k
    JOIN connections_source s ON s.id = k.source_id
    LEFT JOIN privacy_sourcecontrols c ON c.source_id = s.id
    WHERE k.secret = %(key)b AND k.revoke_time IS NULL
)
SELECT src.enabled,
    ARRAY(
        SELECT f.classification || ':' || f.path FROM privacy_inventoryfield f
        WHERE f.workspace_id = src.workspace_id
            AND ((src.red AND f.classification = 'RED')
                OR (src.yellow AND f.classification = 'YELLOW'))
    ),
    ARRAY(
        SELECT u.user_id FROM privacy_suppresseduser u
        WHERE u.workspace_id = src.workspace_id AND u.user_id = ANY(%(user_ids)b::text[])
    )
FROM src
"""


@dataclasses.dataclass(frozen=True)
class Blocked:
    """The blocked paths of one request, ready to walk a payload.

    A path is a field's keys joined with dots, and a key may hold dots itself
    (``properties.a.b`` is ``b`` inside ``a`` or the key ``a.b``): under each
    prefix the walk looks up only the keys a blocked path could continue with
    (``a`` and ``a.b`` there), never every key of the event."""

    reasons: dict[str, str]  # path -> count reason
    # prefix (a root or a proper prefix at a dot) -> the keys that may follow it
    children: dict[str, tuple[str, ...]]
    # What the payload text holds if it may hold a path: its end after the last dot
    # (a suffix of the key itself) as orjson writes it, closing quote and colon included.
    needles: tuple[str, ...]

    @classmethod
    def of(cls, rows: Iterable[str]) -> Blocked:
        """From ``CLASSIFICATION:path`` rows."""
        reasons = {}
        for row in rows:
            classification, _, path = row.partition(":")
            reasons[path] = _REASONS[classification]
        children: dict[str, set[str]] = {}
        needles = set()
        for path in reasons:
            dots = [i for i, char in enumerate(path) if char == "."]
            for n, start in enumerate(dots):
                prefix, rest = path[:start], path[start + 1 :]
                follow = children.setdefault(prefix, set())
                follow.add(rest)
                follow.update(rest[: end - start - 1] for end in dots[n + 1 :])
            needles.add(orjson.dumps(path[dots[-1] + 1 :] if dots else path).decode()[1:] + ":")
        frozen = {prefix: tuple(keys) for prefix, keys in children.items()}
        return cls(reasons, frozen, tuple(needles))

    def may_hold(self, payload: str) -> bool:
        return any(needle in payload for needle in self.needles)

    def remove(self, event: dict[str, Any], counts: dict[str, int]) -> bool:
        """Remove the blocked fields from ``event``, counting per reason; whether any was."""
        removed = False
        for root in SCANNED_ROOTS:
            node = event.get(root)
            if isinstance(node, dict) and root in self.children:
                removed |= self._walk(node, root, counts)
        return removed

    def _walk(self, node: dict[str, Any], prefix: str, counts: dict[str, int]) -> bool:
        removed = False
        for key in self.children[prefix]:
            if key not in node:
                continue
            path = f"{prefix}.{key}"
            reason = self.reasons.get(path)
            if reason is not None:
                del node[key]
                counts[reason] = counts.get(reason, 0) + 1
                removed = True
            elif path in self.children:
                removed |= self._children(node[key], path, counts)
        return removed

    def _children(self, value: Any, path: str, counts: dict[str, int]) -> bool:
        if isinstance(value, dict):
            return self._walk(value, path, counts)
        removed = False
        if isinstance(value, list):
            for item in value:
                removed |= self._children(item, path, counts)
        return removed


def _lookup(write_key: str, user_ids: list[str]) -> tuple[bool, list[str], list[str]]:
    if "\x00" in write_key:  # PostgreSQL text cannot hold NUL, so no key does
        return False, [], []
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with psycopg.Cursor(raw) as cursor:
        cursor.execute(LOOKUP, {"key": write_key, "user_ids": user_ids}, prepare=True)
        found = cursor.fetchone()
    if found is None:
        return False, [], []
    return found


def apply(write_key: str, rows: list[Row]) -> tuple[list[Row], list[Count]]:
    """The gate (``connections.dataplane.gates.Gate``)."""
    user_ids = sorted({row.user_id for row in rows if row.user_id})
    enabled, paths, suppressed = _lookup(write_key, user_ids)
    if not enabled or (not paths and not suppressed):
        return rows, []
    counts: list[Count] = []
    if suppressed:
        gone = frozenset(suppressed)
        kept = [row for row in rows if row.user_id not in gone]
        counts.append((DROPPED, USER_SUPPRESSED, len(rows) - len(kept)))
        rows = kept
    if paths:
        blocked = Blocked.of(paths)
        fields: dict[str, int] = {}
        rows = [_without(row, blocked, fields) for row in rows]
        counts.extend((BLOCKED, reason, n) for reason, n in sorted(fields.items()))
    return rows, counts


def _without(row: Row, blocked: Blocked, counts: dict[str, int]) -> Row:
    if not blocked.may_hold(row.payload):
        return row
    event = orjson.loads(row.payload)
    if not blocked.remove(event, counts):
        return row
    payload = orjson.dumps(event).decode()
    # Positional: three times cheaper than dataclasses.replace, on every rewritten row.
    return Row(
        row.message_id,
        row.type,
        row.event_name,
        row.user_id,
        row.anonymous_id,
        row.timestamp,
        payload,
    )
