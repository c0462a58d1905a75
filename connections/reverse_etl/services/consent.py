"""Consent in Reverse ETL (Segment's "Consent in Reverse ETL").

The workspace's consent categories (``category_id`` as in ``categoryPreferences``,
a name, the destinations that need consent to it; Workspace Owners edit them) and
each model's "consent to" columns (category -> a boolean column of the model; who
may change the model edits them).

When a mapping sends a record (``allows`` / ``Consent.allows``):

- a model without consent columns enforces nothing: records flow to every
  destination ("Creating a data model that does not include information about
  consent preferences results in no consent enforcement");
- a destination mapped to no category needs no consent and receives every record;
- a destination mapped to categories receives a record only when the record says
  ``true`` for *all* of them; a category the model has no column for counts as
  false ("consent preference for that category will be considered to be false"),
  and so does a null or non-boolean value.

``context_for`` is the message's ``context.consent`` (``{"categoryPreferences":
{category_id: bool}}`` for the model's consent columns), which Segment adds to every
event sent to the Segment Connections destination.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from connections.models import Destination
from connections.reverse_etl.alert_choices import AlertAuditAction
from connections.reverse_etl.models import RetlConsentCategory, RetlModel, RetlModelConsent
from connections.reverse_etl.models.consent import (
    CATEGORY_ID_MAX,
    CATEGORY_NAME_MAX,
    COLUMN_MAX,
)
from connections.reverse_etl.services.sources import warehouse_of
from connections.reverse_etl.warehouses.base import QueryError, WarehouseError
from switchyard import access, locking
from switchyard.access import Principal
from switchyard.errors import FailedPrecondition, InvalidArgument
from switchyard.nested_edits import NestedEdits, rebase
from switchyard.validation import clean_text
from workspace.models import Workspace
from workspace.services import audit

# "case sensitive, cannot start with a number, and must have fewer than 35 characters"
CATEGORY_ID_RE = re.compile(rf"^[A-Za-z_][A-Za-z0-9_-]{{0,{CATEGORY_ID_MAX - 1}}}$")
CATEGORIES_MAX = 100
# A record a destination may not receive: skipped (handled, so committed) with this
# reason; Segment's Delivery Overview says "Filtered by end user consent".
FILTERED = "filtered by end user consent"
COLUMNS_TIMEOUT_S = 30.0


# --- reading a record's consent (the load step) -------------------------------------------


def consented(value: object) -> bool:
    """A consent column's value: only a boolean true (or the text "true") consents."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


@dataclass(frozen=True)
class Consent:
    """A model's consent columns and a destination's categories, read once per run."""

    columns: Mapping[str, str]  # category_id -> column
    required: tuple[str, ...]  # the destination's categories

    def allows(self, row: Mapping[str, Any]) -> bool:
        if not self.columns or not self.required:
            return True
        return all(
            category in self.columns and consented(row.get(self.columns[category]))
            for category in self.required
        )

    def context(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        if not self.columns:
            return None
        prefs = {category: consented(row.get(col)) for category, col in self.columns.items()}
        return {"categoryPreferences": prefs}


def add_context(message: dict[str, Any], check: Consent, row: Mapping[str, Any] | None) -> None:
    """Put the row's ``context.consent`` on ``message`` (when the model maps consent
    columns and the record has a row: a deletion carries none)."""
    found = check.context(row) if row is not None else None
    if found is not None:
        message.setdefault("context", {})["consent"] = found


def model_columns(model: RetlModel) -> dict[str, str]:
    found = RetlModelConsent.objects.filter(model=model).values_list("columns", flat=True).first()
    return dict(found or {})


def destination_categories(destination: Destination) -> tuple[str, ...]:
    return tuple(
        sorted(
            RetlConsentCategory.objects.filter(destinations=destination).values_list(
                "category_id", flat=True
            )
        )
    )


def for_mapping(model: RetlModel, destination: Destination) -> Consent:
    """What the load step checks each record against (two queries, once per run)."""
    return Consent(model_columns(model), destination_categories(destination))


def allows(model: RetlModel, destination: Destination, row: Mapping[str, Any]) -> bool:
    """Whether ``destination`` may receive the model's ``row`` (see the module)."""
    return for_mapping(model, destination).allows(row)


def context_for(model: RetlModel, row: Mapping[str, Any]) -> dict[str, Any] | None:
    """``context.consent`` for the row's message; None when the model maps no consent."""
    return Consent(model_columns(model), ()).context(row)


# --- consent categories (Workspace Owners) ------------------------------------------------


def categories(workspace: Workspace) -> list[RetlConsentCategory]:
    return list(
        RetlConsentCategory.objects.filter(workspace=workspace)
        .prefetch_related("destinations__source__workspace")
        .order_by("category_id")
    )


def _category_snapshot(workspace: Workspace) -> list[dict[str, Any]]:
    return [
        {
            "category_id": c.category_id,
            "display_name": c.display_name,
            "destinations": sorted(d.key_id for d in c.destinations.all()),
        }
        for c in categories(workspace)
    ]


def _clean_categories(
    workspace: Workspace, value: object
) -> list[tuple[str, str, list[Destination]]]:
    field = "categories"
    if not isinstance(value, list):
        raise InvalidArgument("categories must be a list", field=field)
    if len(value) > CATEGORIES_MAX:
        raise InvalidArgument(f"at most {CATEGORIES_MAX} consent categories", field=field)
    cleaned: list[tuple[str, str, list[Destination]]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(item, dict) or set(item) - {
            "category_id",
            "display_name",
            "destinations",
        }:
            raise InvalidArgument(
                "a category is {category_id, display_name, destinations}", field=at
            )
        category_id = item.get("category_id")
        if not isinstance(category_id, str) or not CATEGORY_ID_RE.match(category_id):
            raise InvalidArgument(
                f"category_id {category_id!r}: letters, digits, _ or -, not starting with a "
                f"digit, at most {CATEGORY_ID_MAX} characters",
                field=f"{at}.category_id",
            )
        if category_id in seen:
            raise InvalidArgument(f"category_id {category_id!r} twice", field=f"{at}.category_id")
        seen.add(category_id)
        name = clean_text(
            item.get("display_name"), field=f"{at}.display_name", limit=CATEGORY_NAME_MAX
        )
        keys = item.get("destinations", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise InvalidArgument(
                "destinations must be a list of destination names", field=f"{at}.destinations"
            )
        wanted = {k.rsplit("/", 1)[-1] for k in keys}
        found = list(Destination.objects.filter(source__workspace=workspace, key_id__in=wanted))
        missing = wanted - {d.key_id for d in found}
        if missing:
            raise InvalidArgument(
                f"destination(s) {sorted(missing)} not found", field=f"{at}.destinations"
            )
        cleaned.append((category_id, name, found))
    return cleaned


def do_set_categories(
    *, principal: Principal, workspace: Workspace, value: object
) -> list[RetlConsentCategory]:
    """Replace the workspace's consent categories (Workspace Owners only; audited)."""
    access.require(principal, "administer", workspace, write=True)
    cleaned = _clean_categories(workspace, value)
    with transaction.atomic():
        locking.lock_for_update(principal, "administer", workspace, write=True)
        before = _category_snapshot(workspace)
        RetlConsentCategory.objects.filter(workspace=workspace).exclude(
            category_id__in=[c for c, _, _ in cleaned]
        ).delete()
        for category_id, name, destinations in cleaned:
            row, _ = RetlConsentCategory.objects.update_or_create(
                workspace=workspace, category_id=category_id, defaults={"display_name": name}
            )
            row.destinations.set(destinations)
        after = _category_snapshot(workspace)
        if after != before:
            audit.record(
                principal,
                AlertAuditAction.RETL_CONSENT_CATEGORIES_UPDATED,
                workspace=workspace,
                resource_name=f"workspaces/{workspace.slug}/reverse-etl/consent-categories",
                before={"categories": before},
                after={"categories": after},
            )
    return categories(workspace)


# --- a model's consent columns ------------------------------------------------------------


def model_consent(model: RetlModel) -> RetlModelConsent:
    """The model's consent columns; an unsaved empty row when it has none."""
    found = RetlModelConsent.objects.filter(model=model).first()
    found = found or RetlModelConsent(model=model, columns={})
    found.model = model
    return found


def _clean_columns(model: RetlModel, value: object) -> dict[str, str]:
    field = "columns"
    if not isinstance(value, dict):
        raise InvalidArgument("columns must be an object {category_id: column}", field=field)
    known = set(
        RetlConsentCategory.objects.filter(workspace=model.workspace).values_list(
            "category_id", flat=True
        )
    )
    unknown = sorted(set(value) - known)
    if unknown:
        raise InvalidArgument(
            f"consent categor(ies) {unknown} are not the workspace's: create them first",
            field=field,
        )
    columns = {
        str(category): clean_text(column, field=f"{field}.{category}", limit=COLUMN_MAX)
        for category, column in value.items()
    }
    if columns:
        try:
            returned = set(warehouse_of(model.source).columns(model.query, timeout_s=30.0))
        except QueryError as exc:
            raise FailedPrecondition(f"the model's query fails: {exc.message}") from exc
        except WarehouseError as exc:
            raise FailedPrecondition(
                f"cannot check the columns on the source's warehouse: {exc.message}"
            ) from exc
        absent = sorted({c for c in columns.values() if c not in returned})
        if absent:
            raise InvalidArgument(f"the model's query returns no column(s) {absent}", field=field)
    return columns


def do_update_model_consent(
    *, principal: Principal, model: RetlModel, changes: Mapping[str, Any]
) -> RetlModelConsent:
    """Set the model's consent columns (who may change the model; audited)."""
    unknown = set(changes) - {"columns"}
    if unknown:
        raise InvalidArgument(f"cannot update model consent field(s) {sorted(unknown)}")
    access.require(principal, "change", model, write=True)
    columns = _clean_columns(model, changes["columns"]) if "columns" in changes else None
    with transaction.atomic():
        locked_model = locking.lock_for_update(
            principal, "change", model, write=True, related=("workspace", "source")
        )
        row, _ = RetlModelConsent.objects.select_for_update().get_or_create(model=locked_model)
        before = {"columns": row.columns}
        if isinstance(changes.get("columns"), NestedEdits):  # edits of some categories:
            # applied to the row as locked now (checked above against the same edits)
            edited = rebase(changes["columns"], row.columns)
            columns = {str(k): str(v).strip() for k, v in edited.items()}
        if columns is not None and locking.save_changes(row, {"columns": columns}):
            audit.record_changes(
                principal,
                AlertAuditAction.RETL_MODEL_CONSENT_UPDATED,
                workspace=locked_model.workspace,
                resource_name=f"{locked_model.resource_name}/consent",
                before=before,
                after={"columns": row.columns},
            )
    row.model = locked_model
    return row
