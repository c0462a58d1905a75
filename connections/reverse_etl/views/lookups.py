"""The objects Reverse ETL pages are about, found from their URLs by the UI kit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import models

from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSource, RetlSync
from switchyard.errors import SwitchyardError
from switchyard.ui import Lookup, UIRequest, refuse
from workspace.models import Workspace

NAV = "reverse-etl"
MANAGE_REFUSAL = (
    "Managing Reverse ETL needs Workspace Owner or Source Admin on all sources; "
    "you have read-only access."
)


def _source_in(workspace: Workspace, source: str) -> models.QuerySet[RetlSource]:
    return RetlSource.objects.filter(workspace=workspace, slug=source).select_related("workspace")


def _model_in(workspace: Workspace, model: str) -> models.QuerySet[RetlModel]:
    return RetlModel.objects.filter(workspace=workspace, slug=model).select_related(
        "workspace", "source__workspace"
    )


def _mapping_in(workspace: Workspace, mapping: str) -> models.QuerySet[RetlMapping]:
    return RetlMapping.objects.filter(workspace=workspace, key_id=mapping).select_related(
        "workspace", "model__source__workspace", "destination__source"
    )


def _sync_in(workspace: Workspace, mapping: str, sync: str) -> models.QuerySet[RetlSync]:
    return RetlSync.objects.filter(
        mapping__workspace=workspace, mapping__key_id=mapping, key_id=sync
    ).select_related("mapping__workspace", "mapping__model__source", "mapping__destination")


SOURCE = Lookup(arg="source", url_kwargs=("source",), find=_source_in, refusal=MANAGE_REFUSAL)
MODEL = Lookup(arg="model", url_kwargs=("model",), find=_model_in, refusal=MANAGE_REFUSAL)
MAPPING = Lookup(arg="mapping", url_kwargs=("mapping",), find=_mapping_in, refusal=MANAGE_REFUSAL)
SYNC = Lookup(arg="sync", url_kwargs=("mapping", "sync"), find=_sync_in, refusal=MANAGE_REFUSAL)


def attempt(request: UIRequest, write: Callable[[], Any], done: str) -> bool:
    """Run a service write: a refusal is the 403/404 page, other errors a message."""
    try:
        write()
    except SwitchyardError as exc:
        refuse(exc)
        messages.error(request, exc.message)
        return False
    messages.success(request, done)
    return True
