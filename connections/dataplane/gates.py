"""Ingest gates: what a higher app (privacy) does to a request's messages between
the Tracking API's validation and ``ingest``, without connections importing it.

A gate is called with the request's write key and its normalized rows and
returns the rows to store (fewer, or with payloads rewritten) and counts to
record against the source, ``[(outcome, reason, n)]``. The counts go into the
statement that stores the rows (``ingest(..., counts=...)``), so a gate adds no
write of its own. Gates run in registration order, each on what the previous
one returned.

A gate must:

- return the rows unchanged and no counts for an unknown or revoked key (ingest
  answers 401 for it) and for a disabled source (ingest counts all of its
  messages as ``dropped``/``source_disabled``);
- keep ``message_id``, ``type`` and the id columns of a row consistent with its
  payload;
- not count under the pairs ingest counts itself (``accepted``/<type>,
  ``duplicate``/``""``, ``dropped``/``source_disabled``);
- register a label for each reason it counts (``labels``), for the delivery
  overview.

With no gate registered ``apply`` is a length check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from connections.dataplane.tracking.validation import Row

Count = tuple[str, str, int]  # (outcome, reason, events or fields)
Gate = Callable[[str, list[Row]], tuple[list[Row], list[Count]]]

_gates: list[Gate] = []
_labels: dict[tuple[str, str], str] = {}


def register(gate: Gate, labels: Mapping[tuple[str, str], str] | None = None) -> None:
    """Add ``gate`` (once; registering it again changes nothing) and the labels of
    the (outcome, reason) pairs it counts."""
    if gate not in _gates:
        _gates.append(gate)
    _labels.update(labels or {})


def unregister(gate: Gate) -> None:
    if gate in _gates:
        _gates.remove(gate)


def registered() -> tuple[Gate, ...]:
    return tuple(_gates)


def labels() -> Mapping[tuple[str, str], str]:
    return _labels


def apply(write_key: str, rows: list[Row]) -> tuple[list[Row], Sequence[Count]]:
    """The rows to store and the counts to record, once every gate has had its say."""
    if not _gates:
        return rows, ()
    counts: dict[tuple[str, str], int] = {}
    for gate in _gates:
        rows, found = gate(write_key, rows)
        for outcome, reason, n in found:
            if n:
                counts[outcome, reason] = counts.get((outcome, reason), 0) + n
    return rows, [(outcome, reason, n) for (outcome, reason), n in counts.items()]
