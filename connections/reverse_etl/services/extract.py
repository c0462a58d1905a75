"""The extract + diff engine, per model: what a sync run (to come) calls.

1. ``extract(model)`` runs the model's query in the warehouse, keyed by the
   unique identifier with a 64-bit hash of each row computed in SQL, and diffs
   it against the last committed snapshot: counts of added / updated / deleted
   (and of rows dropped for a null or repeated identifier). It replaces the
   model's previous extract.
2. ``changes(model, extract_id, after=..., limit=...)`` pages through the
   uncommitted changes (ordered by identifier) for loading.
3. ``commit_snapshot(model, extract_id, ids)`` advances the snapshot only for
   the delivered ids; the rest stay changes for the next run.
4. ``reset(model)`` / ``do_reset_model`` forgets the snapshot: everything is
   added next time.

Bookkeeping lives in the warehouse (schema ``__switchyard_retl``), or, when the
source's user may only read, in Switchyard's own database (schema
``reverse_etl_bookkeeping``): the ``(identifier, hash)`` pairs are streamed out
and diffed there. The source records which (``RetlSource.bookkeeping``: the
first test connection or extract decides, ``services.sources.warehouse_of``).
"""

from __future__ import annotations

from django.db import transaction

from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSync
from connections.reverse_etl.services.models import audit_record
from connections.reverse_etl.services.sources import warehouse_of
from connections.reverse_etl.warehouses.base import ExtractResult, Record
from switchyard import locking
from switchyard.access import Principal
from switchyard.errors import AlreadyExists

EXTRACT_TIMEOUT_S = 3600.0
PAGE_SIZE = 1000


def bookkeeping_key(model: RetlModel) -> str:
    """The per-model table prefix in the bookkeeping schema: the model's immutable
    generated id (``rmod_`` and 20 lowercase letters and digits)."""
    return model.key_id


def extract(model: RetlModel, *, timeout_s: float = EXTRACT_TIMEOUT_S) -> ExtractResult:
    return warehouse_of(model.source).extract(
        bookkeeping_key(model), model.query, model.identifier_column, timeout_s=timeout_s
    )


def changes(
    model: RetlModel, extract_id: str, *, after: str | None = None, limit: int = PAGE_SIZE
) -> list[Record]:
    return warehouse_of(model.source).changes(
        bookkeeping_key(model), extract_id, after=after, limit=limit
    )


def commit_snapshot(model: RetlModel, extract_id: str, ids: list[str]) -> int:
    return warehouse_of(model.source).commit_snapshot(bookkeeping_key(model), extract_id, ids)


def reset(model: RetlModel) -> None:
    warehouse_of(model.source).reset(bookkeeping_key(model))


def do_reset_model(*, principal: Principal, model: RetlModel) -> None:
    """Segment's "Reset sync" for every mapping of the model (each mapping keeps its
    own snapshot, keyed by the mapping: ``services.syncs``) and the model's own:
    every row is added next time. Refused while a run of one of its mappings is
    active. Audited; the warehouse is changed once the permission check passed."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", model, write=True, related=("workspace", "source")
        )
        mappings = list(RetlMapping.objects.filter(model=locked).order_by("pk"))
        if RetlSync.objects.filter(mapping__in=mappings, status__in=RetlSync.ACTIVE).exists():
            raise AlreadyExists("cannot reset while a sync of one of the model's mappings runs")
        reset(locked)
        for mapping in mappings:
            warehouse_of(locked.source).reset(mapping.key_id)
        audit_record(principal, AuditAction.RETL_MODEL_RESET, locked, after={"reset": True})
