"""Reverse ETL model writes (a SQL query keyed by a unique identifier column) and
the preview of a model's first rows.

Saving a query runs it in the warehouse (read-only, under a time limit, no rows
fetched) to check that it runs and that the identifier column is in its result.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from connections.reverse_etl.choices import AuditAction
from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSource
from connections.reverse_etl.models.queries import IDENTIFIER_MAX, QUERY_MAX
from connections.reverse_etl.services.sources import warehouse_of
from connections.reverse_etl.warehouses.base import Preview, QueryError, WarehouseError
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from switchyard.validation import clean_bool, clean_text
from workspace.services import audit

DISPLAY_NAME_MAX = 100
DESCRIPTION_MAX = 1000
UPDATABLE = {"display_name", "description", "query", "identifier_column", "enabled"}
# Validation runs the query without fetching rows; preview fetches a few.
VALIDATE_TIMEOUT_S = 30.0
PREVIEW_TIMEOUT_S = 30.0
PREVIEW_ROWS = 10  # Segment: "Preview returns the first 10 records"
PREVIEW_ROWS_MAX = 100


def snapshot(model: RetlModel) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "display_name": model.display_name,
        "description": model.description,
        "source": model.source.slug,
        "query": model.query,
        "identifier_column": model.identifier_column,
        "enabled": model.enabled,
    }


def _clean_query(value: object) -> str:
    query = value.strip() if isinstance(value, str) else ""
    if not query:
        raise InvalidArgument("query must not be empty", field="query")
    if len(query) > QUERY_MAX:
        raise InvalidArgument(f"query must be at most {QUERY_MAX} characters", field="query")
    if "\x00" in query:
        raise InvalidArgument("query must not contain NUL", field="query")
    return query


def _clean_identifier(value: object) -> str:
    return clean_text(value, field="identifier_column", limit=IDENTIFIER_MAX)


def _check_in_warehouse(source: RetlSource, query: str, identifier: str) -> None:
    """The query runs and its result has the identifier column (and no column twice,
    which would make rows ambiguous)."""
    try:
        columns = warehouse_of(source).columns(query, timeout_s=VALIDATE_TIMEOUT_S)
    except QueryError as exc:
        raise InvalidArgument(exc.message, field="query") from exc
    except WarehouseError as exc:
        raise FailedPrecondition(
            f"cannot check the query on the source's warehouse: {exc.message}"
        ) from exc
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InvalidArgument(
            f"the query returns column(s) {repeated} more than once: alias them", field="query"
        )
    if identifier not in columns:
        raise InvalidArgument(
            f"the unique identifier column {identifier!r} is not in the query's result "
            f"(columns: {', '.join(columns) or 'none'})",
            field="identifier_column",
        )


def do_create_retl_model(
    *,
    principal: Principal,
    source: RetlSource,
    slug: object,
    display_name: object,
    query: object,
    identifier_column: object,
    description: object = "",
    enabled: object = True,
) -> RetlModel:
    """Whoever may change the source adds models to it."""
    access.require(principal, "change", source, write=True)
    model = RetlModel(
        key_id=names.generate_id("rmod"),
        workspace=source.workspace,
        source=source,
        slug=names.validate_slug(slug, field="name"),
        display_name=clean_text(display_name, field="display_name", limit=DISPLAY_NAME_MAX),
        description=clean_text(
            description, field="description", limit=DESCRIPTION_MAX, required=False
        ),
        query=_clean_query(query),
        identifier_column=_clean_identifier(identifier_column),
        enabled=clean_bool(enabled, field="enabled"),
    )
    if RetlModel.objects.filter(workspace=source.workspace, slug=model.slug).exists():
        raise AlreadyExists(f"model {model.resource_name!r} already exists", field="name")
    _check_in_warehouse(source, model.query, model.identifier_column)
    try:
        with transaction.atomic():
            model.save()
            audit_record(principal, AuditAction.RETL_MODEL_CREATED, model, after=snapshot(model))
    except IntegrityError as exc:
        raise AlreadyExists(f"model {model.resource_name!r} already exists", field="name") from exc
    return model


def audit_record(
    principal: Principal,
    action: AuditAction,
    resource: RetlModel | RetlMapping,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An audit entry for a model or a mapping (both named inside their workspace)."""
    audit.record(
        principal,
        action,
        workspace=resource.workspace,
        resource_name=resource.resource_name,
        before=before,
        after=after,
    )


def do_update_retl_model(
    *, principal: Principal, model: RetlModel, changes: dict[str, Any]
) -> RetlModel:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidArgument(
            f"cannot update model field(s) {sorted(unknown)}: the slug and source are immutable"
        )
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", model, related=("workspace", "source")
        )
        before = snapshot(locked)
        values: dict[str, Any] = {}
        if "display_name" in changes:
            values["display_name"] = clean_text(
                changes["display_name"], field="display_name", limit=DISPLAY_NAME_MAX
            )
        if "description" in changes:
            values["description"] = clean_text(
                changes["description"], field="description", limit=DESCRIPTION_MAX, required=False
            )
        if "query" in changes:
            values["query"] = _clean_query(changes["query"])
        if "identifier_column" in changes:
            values["identifier_column"] = _clean_identifier(changes["identifier_column"])
        if "enabled" in changes:
            values["enabled"] = clean_bool(changes["enabled"], field="enabled")
        query = values.get("query", locked.query)
        identifier = values.get("identifier_column", locked.identifier_column)
        if (query, identifier) != (locked.query, locked.identifier_column):
            # Checked on the locked row: a concurrent change of the other field is seen.
            _check_in_warehouse(locked.source, query, identifier)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.RETL_MODEL_UPDATED,
                workspace=locked.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_retl_model(*, principal: Principal, model: RetlModel) -> None:
    """The model's bookkeeping tables stay in the warehouse (it may be unreachable)."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "delete", model, related=("workspace", "source")
        )
        audit_record(principal, AuditAction.RETL_MODEL_DELETED, locked, before=snapshot(locked))
        locked.delete()


def preview_model(
    *,
    principal: Principal,
    model: RetlModel,
    limit: object = PREVIEW_ROWS,
    query: object = None,
    identifier_column: object = None,
) -> Preview:
    """The first rows of the model's query (or of an edited ``query`` not yet saved,
    for the SQL editor), read-only, with a row and a time limit. Running a query
    other than the saved one needs the right to change the model."""
    if type(limit) is not int or not 1 <= limit <= PREVIEW_ROWS_MAX:
        raise InvalidArgument(
            f"limit must be a whole number from 1 to {PREVIEW_ROWS_MAX}", field="limit"
        )
    edited = query is not None or identifier_column is not None
    access.require(principal, "change" if edited else "view", model, write=edited)
    sql_text = model.query if query is None else _clean_query(query)
    identifier = (
        model.identifier_column
        if identifier_column is None
        else _clean_identifier(identifier_column)
    )
    return _preview(model.source, sql_text, identifier, limit)


def preview_query(
    *,
    principal: Principal,
    source: RetlSource,
    query: object,
    identifier_column: object,
    limit: object = PREVIEW_ROWS,
) -> Preview:
    """The first rows of a query not saved as a model yet (the new-model page's SQL
    editor): whoever may add models to the source may run it."""
    if type(limit) is not int or not 1 <= limit <= PREVIEW_ROWS_MAX:
        raise InvalidArgument(
            f"limit must be a whole number from 1 to {PREVIEW_ROWS_MAX}", field="limit"
        )
    access.require(principal, "change", source, write=True)
    return _preview(source, _clean_query(query), _clean_identifier(identifier_column), limit)


def _preview(source: RetlSource, sql_text: str, identifier: str, limit: int) -> Preview:
    try:
        preview = warehouse_of(source).preview(
            sql_text, identifier, limit=limit, timeout_s=PREVIEW_TIMEOUT_S
        )
    except QueryError as exc:
        raise InvalidArgument(exc.message, field="query") from exc
    except WarehouseError as exc:
        raise FailedPrecondition(
            f"cannot preview on the source's warehouse: {exc.message}"
        ) from exc
    if identifier not in preview.columns:
        raise InvalidArgument(
            f"the unique identifier column {identifier!r} is not in the query's result "
            f"(columns: {', '.join(preview.columns) or 'none'})",
            field="identifier_column",
        )
    return preview
