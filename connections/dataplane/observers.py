"""Batch observers: code of a higher layer (the privacy app's detection) that
reads each delivery batch's events once, after the ingest commit.

The delivery worker calls ``notify`` on a batch's first claim only, so a batch
is observed at most once (a re-run after a dead worker does not count its
events twice; a worker that dies before notifying loses that batch's
observation, never its delivery). An observer's error is logged and undone
(its own savepoint): observing never stops delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from django.db import transaction

logger = logging.getLogger("switchyard.delivery")


class BatchEvent(NamedTuple):
    id: int
    type: str
    event_name: str
    payload: dict[str, Any]
    received_at: dt.datetime


# (workspace id, source id, the batch's events); what it returns is ignored
Observer = Callable[[str, int, Sequence[BatchEvent]], object]

_observers: list[Observer] = []


def register(observer: Observer) -> None:
    """Called from an AppConfig.ready; registering the same observer twice is one."""
    if observer not in _observers:
        _observers.append(observer)


def unregister(observer: Observer) -> None:
    if observer in _observers:
        _observers.remove(observer)


def active() -> bool:
    return bool(_observers)


def notify(workspace_id: str, source_id: int, events: Sequence[BatchEvent]) -> None:
    if not events:
        return
    for observer in list(_observers):
        try:
            with transaction.atomic():
                observer(workspace_id, source_id, events)
        except Exception:
            logger.exception(
                "batch observer %s failed on %d event(s) of source %s",
                getattr(observer, "__qualname__", observer),
                len(events),
                source_id,
            )
