"""``workspaces/{w}/sources/{source}/privacy-controls``: one per source, Get and
Update (no List, Create or Delete: every source has controls, all off at first)."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request

from connections.models import Source
from privacy.api.control_serializers import PrivacyControlsSerializer
from privacy.models import SourceControls
from privacy.selectors import controls as selectors
from privacy.services import controls as service
from switchyard import access
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import NotFound

_OWNERS = "Workspace Owners only (the Privacy Portal is theirs)."


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get Source Privacy Controls",
        description="Which classifications of the Data Inventory this source blocks at the "
        "Tracking API. " + _OWNERS,
    ),
    partial_update=extend_schema(
        summary="Update Source Privacy Controls",
        description="`update_mask.paths`: `privacy_controls.block_red`, "
        "`privacy_controls.block_yellow`. Applies from the source's next request on. " + _OWNERS,
    ),
)
class PrivacyControlsViewSet(WorkspaceResourceViewSet):
    resource_key = "privacy_controls"
    collection_key = "privacy_controls"
    serializer_class = PrivacyControlsSerializer
    http_method_names = ["get", "patch", "head", "options"]
    required_workspace_action = "administer"

    @property
    def source(self) -> Source:
        cached: Source | None = getattr(self, "_source", None)
        if cached is None:
            visible = access.restrict(
                Source.objects.filter(workspace=self.workspace), self.principal, "view"
            )
            cached = visible.select_related("workspace").filter(slug=self.kwargs["source"]).first()
            if cached is None:
                raise NotFound(f"source {self.kwargs['source']!r} not found")
            self._source = cached
        return cached

    def base_queryset(self) -> models.QuerySet[SourceControls]:
        return SourceControls.objects.filter(source=self.source)

    def get_object(self) -> SourceControls:
        return selectors.source_controls(self.source)

    def update_resource(
        self, principal: Principal, obj: SourceControls, changes: dict[str, Any]
    ) -> SourceControls:
        return service.do_update_source_controls(
            principal=principal, source=self.source, changes=changes
        )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.source


controls = PrivacyControlsViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update"}, http_method_names=["get", "patch", "options"]
)
