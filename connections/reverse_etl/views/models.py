"""Reverse ETL models: the SQL editor (create and edit) with Preview, delete.

Preview is a server round trip: the form's "Preview" button posts the editor's
query and identifier column, the page comes back with the first rows under the
editor (and nothing saved). A saved model's preview needs only read access."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from connections.reverse_etl.forms.models import ModelForm
from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSource
from connections.reverse_etl.services import models as service
from connections.reverse_etl.views.lookups import MANAGE_REFUSAL, MODEL, NAV, SOURCE, attempt
from connections.reverse_etl.warehouses.base import Preview
from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, refuse, workspace_view
from workspace.models import Workspace

FORM_FIELDS = {"name": "slug"}


def preview_context(preview: Preview) -> dict[str, Any]:
    """The preview's rows as cells in column order, and what it says of the identifier."""
    return {
        "columns": preview.columns,
        "rows": [[row.get(c) for c in preview.columns] for row in preview.rows],
        "limited": preview.limited,
        "identifier_unique": preview.identifier_unique,
        "identifier_nulls": preview.identifier_nulls,
    }


def _preview(request: UIRequest, form: ModelForm, run: Any) -> dict[str, Any] | None:
    """Run a preview; its errors go on the form (a refusal is the 403/404 page)."""
    try:
        return preview_context(run())
    except SwitchyardError as exc:
        refuse(exc)
        add_service_error(form, exc, FORM_FIELDS)
        return None


@workspace_view(SOURCE, action="change")
@require_http_methods(["GET", "POST"])
def model_add(request: UIRequest, workspace: Workspace, source: RetlSource) -> HttpResponse:
    form = ModelForm(request.POST or None, creating=True)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("intent") == "preview":
            preview = _preview(
                request,
                form,
                lambda: service.preview_query(
                    principal=request.principal,
                    source=source,
                    query=data["query"],
                    identifier_column=data["identifier_column"],
                ),
            )
        else:
            try:
                model = service.do_create_retl_model(
                    principal=request.principal,
                    source=source,
                    slug=data["slug"],
                    display_name=data["display_name"],
                    description=data["description"],
                    query=data["query"],
                    identifier_column=data["identifier_column"],
                    enabled=data["enabled"],
                )
            except SwitchyardError as exc:
                refuse(exc)
                add_service_error(form, exc, FORM_FIELDS)
            else:
                messages.success(request, f"Created model {model.display_name}.")
                return redirect("reverse_etl:model", slug=workspace.slug, model=model.slug)
    context = {
        "workspace": workspace,
        "nav": NAV,
        "source": source,
        "form": form,
        "preview": preview,
        "can_change": True,
    }
    return render(
        request, "reverse_etl/model_add.html", context, status=400 if form.errors else 200
    )


def _mappings(model: RetlModel) -> QuerySet[RetlMapping]:
    return model.mappings.select_related("destination").order_by("display_name", "pk")


@workspace_view(MODEL)
@require_http_methods(["GET", "POST"])
def model_detail(request: UIRequest, workspace: Workspace, model: RetlModel) -> HttpResponse:
    """The model's editor (read-only without edit rights) and its mappings.
    POST ``intent``: ``save``, ``preview`` (the editor's query, or the saved one for
    readers), ``delete``."""
    can_change = access.can(request.principal, "change", model)
    intent = request.POST.get("intent", "save") if request.method == "POST" else ""
    initial = {
        "display_name": model.display_name,
        "description": model.description,
        "query": model.query,
        "identifier_column": model.identifier_column,
        "enabled": model.enabled,
    }
    form = ModelForm(
        request.POST if request.method == "POST" and can_change else None,
        creating=False,
        initial=initial,
    )
    preview = None
    if intent == "delete":
        if attempt(
            request,
            lambda: service.do_delete_retl_model(principal=request.principal, model=model),
            f"Deleted model {model.display_name} and its mappings.",
        ):
            return redirect("reverse_etl:source", slug=workspace.slug, source=model.source.slug)
        return redirect("reverse_etl:model", slug=workspace.slug, model=model.slug)
    if intent == "preview" and not can_change:
        # A reader previews the saved query only.
        preview = _preview(
            request, form, lambda: service.preview_model(principal=request.principal, model=model)
        )
    elif intent and not can_change:
        raise PermissionDenied(MANAGE_REFUSAL)
    elif intent and form.is_valid():
        data = form.cleaned_data
        if intent == "preview":
            preview = _preview(
                request,
                form,
                lambda: service.preview_model(
                    principal=request.principal,
                    model=model,
                    query=data["query"],
                    identifier_column=data["identifier_column"],
                ),
            )
        else:
            try:
                service.do_update_retl_model(
                    principal=request.principal,
                    model=model,
                    changes={k: data[k] for k in initial},
                )
            except SwitchyardError as exc:
                refuse(exc)
                add_service_error(form, exc, FORM_FIELDS)
            else:
                messages.success(request, "Model saved.")
                return redirect("reverse_etl:model", slug=workspace.slug, model=model.slug)
    context = {
        "workspace": workspace,
        "nav": NAV,
        "model": model,
        "source": model.source,
        "form": form,
        "preview": preview,
        "mappings": _mappings(model),
        "can_change": can_change,
        "can_delete": access.can(request.principal, "delete", model),
    }
    return render(request, "reverse_etl/model.html", context, status=400 if form.errors else 200)
