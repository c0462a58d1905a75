"""Resources that are one per parent (a workspace's alert settings and consent
categories, a mapping's alert and schedule, a model's consent): Get and Update
only (``update_mask``), no List, Create or Delete. A subclass says how to read its
object and which service updates it (``get_object``, ``update_resource``)."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework.request import Request

from connections.reverse_etl.models import RetlMapping
from switchyard import access
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import NotFound

SINGLETON_METHODS = ["get", "patch", "head", "options"]


def visible_or_404(queryset: models.QuerySet[Any], principal: Principal, what: str) -> Any:
    found = access.restrict(queryset, principal, "view").first()
    if found is None:
        raise NotFound(f"{what} not found")
    return found


class SingletonViewSet(WorkspaceResourceViewSet):
    http_method_names = SINGLETON_METHODS

    @classmethod
    def singleton_view(cls) -> Any:
        """The view routed at the resource's path: GET retrieves, PATCH updates."""
        return cls.as_view(
            {"get": "retrieve", "patch": "partial_update"},
            http_method_names=["get", "patch", "options"],
        )


class MappingSingletonViewSet(SingletonViewSet):
    """One per mapping (``mappings/{retl_mapping}/...``): the mapping must be visible
    to the principal, or the answer is 404 before any handler runs."""

    @property
    def mapping(self) -> RetlMapping:
        cached: RetlMapping | None = getattr(self, "_mapping", None)
        if cached is None:
            key = self.kwargs["retl_mapping"]
            cached = visible_or_404(
                RetlMapping.objects.filter(workspace=self.workspace, key_id=key).select_related(
                    "workspace", "model"
                ),
                self.principal,
                f"reverse_etl_mapping {key!r}",
            )
            self._mapping = cached
        return cached

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.mapping
