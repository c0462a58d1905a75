from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework.request import Request
from rest_framework.response import Response

from privacy.api.serializers import (
    MatcherTestRequestSerializer,
    MatcherTestResultSerializer,
    PiiMatcherCreateSerializer,
    PiiMatcherSerializer,
)
from privacy.models import PiiMatcher
from privacy.selectors import matchers as selectors
from privacy.selectors.matchers import Entry
from privacy.services import matchers as service
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import FailedPrecondition, NotFound

_MATCHER = OpenApiParameter(
    "pii_matcher", str, OpenApiParameter.PATH, description="a default's id, or a custom pm_... id"
)
_OWNERS = "Workspace Owners only (the Privacy Portal is theirs)."
_READ_ONLY_DEFAULT = (
    "Default matchers are read-only: create a custom matcher with the same name to override one."
)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The API's ``display_name`` is the matcher's ``name``."""
    out = dict(data)
    if "display_name" in out:
        out["name"] = out.pop("display_name")
    return out


@extend_schema_view(
    list=extend_schema(
        summary="List PII Matchers",
        description="The default matchers (`default: true`, read-only, in the docs' order), "
        "then the workspace's custom matchers, oldest first. " + _OWNERS,
    ),
    retrieve=extend_schema(summary="Get PII Matcher", parameters=[_MATCHER]),
    create=extend_schema(
        summary="Create PII Matcher",
        description="At most 100 custom matchers per workspace (the 101st is refused, "
        "code 9). A matcher named like a default overrides it. " + _OWNERS,
        request=inline_serializer(
            "CreatePiiMatcher", {"pii_matcher": PiiMatcherCreateSerializer()}
        ),
    ),
    partial_update=extend_schema(
        summary="Update PII Matcher",
        parameters=[_MATCHER],
        description=f"Custom matchers only. {_READ_ONLY_DEFAULT} {_OWNERS}",
    ),
    destroy=extend_schema(
        summary="Delete PII Matcher",
        parameters=[_MATCHER],
        description=f"Custom matchers only. {_OWNERS}",
        responses={200: inline_serializer("PiiMatcherDeleted", {})},
    ),
)
class PiiMatcherViewSet(WorkspaceResourceViewSet):
    resource_key = "pii_matcher"
    collection_key = "pii_matchers"
    serializer_class = PiiMatcherSerializer
    create_serializer_class = PiiMatcherCreateSerializer
    list_ordering = ("list_key",)
    lookup_field = "pii_matcher"
    lookup_value_regex = r"[a-zA-Z0-9_-]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[PiiMatcher]:
        return PiiMatcher.objects.filter(workspace=self.workspace).select_related("workspace")

    def list_items(self) -> list[Entry]:
        rows = list(self.get_queryset().order_by("create_time", "pk"))
        return selectors.entries(self.workspace, rows)

    def get_object(self) -> Entry:
        key = self.kwargs[self.lookup_field]
        row = self.get_queryset().filter(key_id=key).first()
        if row is not None:
            return selectors.entry_for(self.workspace, row)
        found = selectors.default_entry(self.workspace, key)
        if found is None:
            raise NotFound(f"pii_matcher {key!r} not found")
        return found

    def _custom(self, entry: Entry) -> PiiMatcher:
        if entry.row is None:
            raise FailedPrecondition(_READ_ONLY_DEFAULT, field="pii_matcher")
        return entry.row

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Entry:
        row = service.do_create_pii_matcher(
            principal=principal, workspace=self.workspace, **_fields(data)
        )
        return selectors.entry_for(self.workspace, row)

    def update_resource(self, principal: Principal, obj: Entry, changes: dict[str, Any]) -> Entry:
        row = service.do_update_pii_matcher(
            principal=principal, matcher=self._custom(obj), changes=_fields(changes)
        )
        return selectors.entry_for(self.workspace, row)

    def delete_resource(self, principal: Principal, obj: Entry) -> None:
        service.do_delete_pii_matcher(principal=principal, matcher=self._custom(obj))

    @extend_schema(
        summary="Test PII Matchers",
        description="POST .../pii-matchers:test. Which fields of a sample event each "
        "matcher in effect flags (defaults not overridden, then enabled custom matchers); "
        "only fields under context, traits and properties are scanned. Stores nothing. " + _OWNERS,
        request=MatcherTestRequestSerializer,
        responses={200: MatcherTestResultSerializer},
    )
    def run_test(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = MatcherTestRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        flags = selectors.flag_fields(self.workspace, incoming.validated_data["event"])
        slug = self.workspace.slug
        matches = [
            {
                "matcher": f"workspaces/{slug}/pii-matchers/{flag.matcher.id}",
                "id": flag.matcher.id,
                "display_name": flag.matcher.name,
                "classification": flag.matcher.classification.value,
                "match_on": flag.matcher.match_on.value,
                "default": flag.matcher.default,
                "paths": flag.paths,
            }
            for flag in flags
        ]
        return Response(MatcherTestResultSerializer({"matches": matches}).data)
