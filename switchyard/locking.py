"""Updates that cannot lose one another.

A service is handed the object its caller loaded; by the time it writes, other
requests may have changed that row, or the principal's grants. So an update
re-reads the row FOR UPDATE inside its transaction (concurrent writers of the
row then take turns, each starting from what the previous one committed), asks
access about that locked row, and saves only the columns it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import models

from switchyard import access
from switchyard.access import Action, Principal
from switchyard.errors import NotFound

M = TypeVar("M", bound=models.Model)


def lock_for_update(
    principal: Principal,
    action: Action,
    obj: M,
    *,
    write: bool = False,
    related: tuple[str, ...] = (),
    subject: Callable[[M], models.Model] | None = None,
) -> M:
    """``obj`` read again and locked until the transaction ends, once ``principal``
    may ``action`` it (or ``subject(locked)``: say, its workspace). Call inside
    ``transaction.atomic()``. ``related`` is joined in but not locked."""
    rows = type(obj)._default_manager.select_for_update(of=("self",)).select_related(*related)
    locked = rows.filter(pk=obj.pk).first()
    if locked is None:  # deleted since the caller read it
        raise NotFound(f"{obj._meta.verbose_name} not found")
    access.require(principal, action, locked if subject is None else subject(locked), write=write)
    return locked


def save_changes(obj: models.Model, values: Mapping[str, Any], *, touched: bool = False) -> bool:
    """Set the fields of ``values`` whose value differs and save just those (and
    ``update_time``, where the model keeps one). ``touched``: something stored
    elsewhere changed (a source's labels), so ``update_time`` moves regardless.
    Returns whether anything changed; nothing is written when nothing did."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if not changed and not touched:
        return False
    if any(f.name == "update_time" for f in obj._meta.concrete_fields):
        changed.append("update_time")
    if changed:
        obj.save(update_fields=changed)
    return True
