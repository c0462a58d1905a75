from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view

from switchyard import masking
from switchyard.api.filtering import apply_filters
from switchyard.api.viewsets import WorkspaceResourceViewSet
from workspace.api.serializers import AuditEventSerializer
from workspace.filtersets import AuditEntryFilterSet
from workspace.models import AuditEntry
from workspace.selectors import audit_entries_for


@extend_schema_view(
    list=extend_schema(
        summary="List Audit Events",
        description="Newest first. Workspace Owners only.",
        filters=True,
    ),
    retrieve=extend_schema(summary="Get Audit Event"),
)
class AuditEventViewSet(WorkspaceResourceViewSet):
    resource_key = "audit_event"
    collection_key = "audit_events"
    serializer_class = AuditEventSerializer
    filterset_class = AuditEntryFilterSet
    list_ordering = ("-time", "-pk")
    lookup_field = "audit_event"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "head", "options"]
    required_workspace_action = "administer"

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "workspace": self.workspace,
            "mask": masking.mask_for(self.principal, self.workspace.pk),
        }

    def base_queryset(self) -> models.QuerySet[AuditEntry]:
        entries = audit_entries_for(self.workspace)
        if self.action == "list":
            entries = apply_filters(AuditEntryFilterSet, self.request.query_params, entries)
        return entries

    def lookup(self, queryset: models.QuerySet[AuditEntry], key: str) -> AuditEntry | None:
        return queryset.filter(pk=int(key)).first()
