"""The workspace a URL names, found without importing the app that defines it.

The kernel sits below every app, so it names the workspace model the way Django
names the user model (``AUTH_USER_MODEL``): by ``app_label.ModelName``, resolved
through the app registry when asked. The UI kit and the API kit both find the
workspace of a ``workspaces/<slug>/...`` path here, so both answer the same 404.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from switchyard import access
from switchyard.access import Principal
from switchyard.errors import NotFound

WORKSPACE_MODEL = "workspace.Workspace"


def workspace_model() -> type[models.Model]:
    return apps.get_model(WORKSPACE_MODEL)


def visible_workspace(principal: Principal, slug: str) -> Any:
    """The workspace ``slug`` if the principal may see it; NotFound otherwise, whether
    it exists or not (a stranger learns nothing)."""
    workspaces = workspace_model()._default_manager.filter(slug=slug)
    found = access.restrict(workspaces, principal, "view").first()
    if found is None:
        raise NotFound(f"workspace {slug!r} not found")
    return found
