"""End-user deletion and suppression: regulations and the suppression list.

Workspace Owners only. Regulations are created and read, never changed or
deleted (a request to undo a suppression is an UNSUPPRESS regulation).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)

from privacy.api.regulation_serializers import (
    RegulationCreateSerializer,
    RegulationSerializer,
    SuppressedUserSerializer,
)
from privacy.models import Regulation, SuppressedUser
from privacy.services import regulations as service
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet

_OWNERS = "Workspace Owners only (the Privacy Portal is theirs)."
_REGULATION = OpenApiParameter("regulation", str, OpenApiParameter.PATH, description="rg_...")
_USER = OpenApiParameter(
    "suppressed_user", str, OpenApiParameter.PATH, description="the userId (URL-encoded)"
)


@extend_schema_view(
    list=extend_schema(
        summary="List Regulations",
        description="The workspace's deletion and suppression requests, newest first. " + _OWNERS,
    ),
    retrieve=extend_schema(summary="Get Regulation", parameters=[_REGULATION]),
    create=extend_schema(
        summary="Create Regulation",
        description=(
            "Delete and/or suppress end users by userId, in every source of the workspace. "
            "Suppression (SUPPRESS_ONLY, SUPPRESS_WITH_DELETE, SUPPRESS_WITH_DELETE_INTERNAL) "
            "applies from the next request to the Tracking API; UNSUPPRESS lifts it. Deletion "
            "runs in the background: the regulation is INITIALIZED, RUNNING, then FINISHED "
            "with counts per store (or FAILED). Deletions are not forwarded to destinations. "
            f"At most {service.SUBJECT_IDS_MAX} subject ids per request (code 3) and "
            f"{service.QUOTA_USERS:,} users per 30 days per workspace (code 8, HTTP 429); a "
            "refused request stores nothing. " + _OWNERS
        ),
        request=inline_serializer("CreateRegulation", {"regulation": RegulationCreateSerializer()}),
    ),
)
class RegulationViewSet(WorkspaceResourceViewSet):
    resource_key = "regulation"
    collection_key = "regulations"
    serializer_class = RegulationSerializer
    create_serializer_class = RegulationCreateSerializer
    list_ordering = ("-create_time", "-pk")
    lookup_field = "regulation"
    lookup_value_regex = r"[a-zA-Z0-9_-]+"
    http_method_names = ["get", "post", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[Regulation]:
        return Regulation.objects.filter(workspace=self.workspace).select_related(
            "workspace", "created_by"
        )

    def lookup(self, queryset: models.QuerySet[Regulation], key: str) -> Regulation | None:
        return queryset.filter(key_id=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Regulation:
        return service.do_create_regulation(principal=principal, workspace=self.workspace, **data)


@extend_schema_view(
    list=extend_schema(
        summary="List Suppressed Users",
        description="The userIds whose new events the Tracking API drops, by userId. To lift "
        "a suppression, create an UNSUPPRESS regulation. " + _OWNERS,
    ),
    retrieve=extend_schema(
        summary="Get Suppressed User",
        description="404 when the userId is not suppressed. " + _OWNERS,
        parameters=[_USER],
    ),
)
class SuppressedUserViewSet(WorkspaceResourceViewSet):
    resource_key = "suppressed_user"
    collection_key = "suppressed_users"
    serializer_class = SuppressedUserSerializer
    list_ordering = ("user_id", "pk")  # the (workspace, user_id) unique index
    lookup_field = "suppressed_user"
    lookup_value_regex = r".+"  # userIds may hold slashes: this is the last segment
    http_method_names = ["get", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[SuppressedUser]:
        return (
            SuppressedUser.objects.filter(workspace=self.workspace)
            .select_related("workspace", "regulation")
            .defer("regulation__subject_ids", "regulation__counts", "regulation__error")
        )

    def lookup(self, queryset: models.QuerySet[SuppressedUser], key: str) -> SuppressedUser | None:
        return queryset.filter(user_id=key).first()
