"""Config API: audiences and computed traits of a space, their runs and members."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from engage.api.computation_serializers import (
    AudienceCreateSerializer,
    AudiencePreviewSerializer,
    AudienceSerializer,
    ComputationMemberSerializer,
    ComputationRunSerializer,
    PreviewResultSerializer,
    TraitCreateSerializer,
    TraitPreviewSerializer,
    TraitSerializer,
)
from engage.api.space_views import SpaceChildViewSet
from engage.models import Computation, ComputationKind, ComputationMember, ComputationRun
from engage.services import computations as service
from switchyard.access import Principal
from switchyard.api.strict_types import check_types
from switchyard.errors import InvalidArgument, NotFound

KEY_REGEX = r"[a-z0-9_]+"  # no ":": "{key}:compute" is a custom method
DELETED = inline_serializer("ComputationDeleted", {})


class _ComputationViewSet(SpaceChildViewSet):
    kind: ClassVar[str]
    preview_serializer_class: ClassVar[type[serializers.Serializer]]
    lookup_value_regex = KEY_REGEX
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[Computation]:
        return Computation.objects.filter(space=self.space, kind=self.kind).select_related(
            "space__workspace"
        )

    def lookup(self, queryset: models.QuerySet[Computation], key: str) -> Computation | None:
        return queryset.filter(key=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Computation:
        return service.do_create_computation(
            principal=principal,
            space=self.space,
            kind=self.kind,
            display_name=data["display_name"],
            key=data.get("key") or None,
            description=data["description"],
            folder=data["folder"],
            definition=data["definition"],
            enabled=data["enabled"],
            compute_without_destinations=data["compute_without_destinations"],
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mask = request.data.get("update_mask") if isinstance(request.data, dict) else None
        if mask is None and isinstance(request.data, dict):
            inner = request.data.get(self.resource_key)
            mask = inner.get("update_mask") if isinstance(inner, dict) else None
        paths = mask.get("paths") if isinstance(mask, dict) else None
        if isinstance(paths, list):
            for field, why in service.IMMUTABLE.items():
                if f"{self.resource_key}.{field}" in paths:
                    self.get_object()  # an unseen one is 404 first
                    raise InvalidArgument(why, field="update_mask.paths")
        return super().partial_update(request, *args, **kwargs)

    def update_resource(
        self, principal: Principal, obj: Computation, changes: dict[str, Any]
    ) -> Computation:
        return service.do_update_computation(principal=principal, computation=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: Computation) -> None:
        service.do_delete_computation(principal=principal, computation=obj)

    def compute(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run = service.do_request_run(principal=self.principal, computation=self.get_object())
        run = ComputationRun.objects.select_related("computation__space__workspace").get(pk=run.pk)
        return Response(ComputationRunSerializer(run).data)

    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise InvalidArgument("the request body must be a JSON object")
        incoming = self.preview_serializer_class(data=body)
        check_types(incoming, body)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        result = service.preview(
            principal=self.principal,
            space=self.space,
            kind=self.kind,
            definition=data["definition"],
            key=data.get("key") or None,
        )
        return Response(
            {
                "size": result.size,
                "sample": result.sample,
                "compute_mode": result.compute_mode,
                "batch_reasons": result.reasons,
            }
        )


AUDIENCE_DOCS = {
    "list": extend_schema(summary="List Audiences"),
    "retrieve": extend_schema(summary="Get Audience"),
    "create": extend_schema(
        summary="Create Audience",
        description="Engage Users, Unify and Engage Admins and owners. The definition is "
        "validated (precise errors with JSON Pointers), classified real-time or batch "
        "(immutable), checked for cycles; the first compute run is queued.",
        request=inline_serializer("CreateAudience", {"audience": AudienceCreateSerializer()}),
    ),
    "partial_update": extend_schema(
        summary="Update Audience",
        description="display_name, description, folder, enabled and definition (whole or "
        "by nested paths). key, compute mode and include_anonymous cannot change.",
    ),
    "destroy": extend_schema(
        summary="Delete Audience",
        description="Members, runs and history go; the key is never reused and profiles "
        "keep the last value as a custom trait. Refused while an audience refers to it.",
        responses={200: DELETED},
    ),
}


@extend_schema_view(**AUDIENCE_DOCS)
class AudienceViewSet(_ComputationViewSet):
    kind = ComputationKind.AUDIENCE
    resource_key = "audience"
    collection_key = "audiences"
    lookup_field = "audience"
    serializer_class = AudienceSerializer
    create_serializer_class = AudienceCreateSerializer
    preview_serializer_class = AudiencePreviewSerializer

    @extend_schema(
        summary="Compute Audience",
        description="POST .../audiences/{audience}:compute: a run now (the Refresh button); "
        "answers the queued (or already pending) run.",
        request=None,
        responses={200: ComputationRunSerializer},
    )
    def compute(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().compute(request, *args, **kwargs)

    @extend_schema(
        summary="Preview Audience",
        description="POST .../audiences:preview: the size estimate (the same compiled query "
        "a run executes, counted) and a sample of members, before saving.",
        request=AudiencePreviewSerializer,
        responses={200: PreviewResultSerializer},
    )
    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().preview(request, *args, **kwargs)


def _trait_docs() -> dict[str, Any]:
    docs = {
        "list": extend_schema(summary="List Computed Traits"),
        "retrieve": extend_schema(summary="Get Computed Trait"),
        "create": extend_schema(
            summary="Create Computed Trait",
            description="Event Counter, Aggregation, Most Frequent, First, Last, Unique List, "
            "Unique List Count; user or account level. The first compute run is queued.",
            request=inline_serializer(
                "CreateComputedTrait", {"computed_trait": TraitCreateSerializer()}
            ),
        ),
        "partial_update": extend_schema(
            summary="Update Computed Trait",
            description="display_name, description, folder, enabled and definition; the key "
            "and compute mode cannot change.",
        ),
        "destroy": extend_schema(summary="Delete Computed Trait", responses={200: DELETED}),
    }
    return docs


@extend_schema_view(**_trait_docs())
class TraitViewSet(_ComputationViewSet):
    kind = ComputationKind.TRAIT
    resource_key = "computed_trait"
    collection_key = "computed_traits"
    lookup_field = "computed_trait"
    serializer_class = TraitSerializer
    create_serializer_class = TraitCreateSerializer
    preview_serializer_class = TraitPreviewSerializer

    @extend_schema(
        summary="Compute Computed Trait",
        description="POST .../computed-traits/{computed_trait}:compute: a run now.",
        request=None,
        responses={200: ComputationRunSerializer},
    )
    def compute(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().compute(request, *args, **kwargs)

    @extend_schema(
        summary="Preview Computed Trait",
        description="POST .../computed-traits:preview: how many profiles get a value, and "
        "a sample, before saving.",
        request=TraitPreviewSerializer,
        responses={200: PreviewResultSerializer},
    )
    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().preview(request, *args, **kwargs)


class _ComputationChildViewSet(SpaceChildViewSet):
    """Runs or members of one audience / trait (``parent_kwarg`` in the path)."""

    kind: ClassVar[str]
    parent_kwarg: ClassVar[str]
    http_method_names = ["get", "head", "options"]

    @property
    def computation(self) -> Computation:
        cached: Computation | None = getattr(self, "_computation", None)
        if cached is None:
            cached = (
                Computation.objects.filter(
                    space=self.space, kind=self.kind, key=self.kwargs[self.parent_kwarg]
                )
                .select_related("space__workspace")
                .first()
            )
            if cached is None:
                raise NotFound(f"{self.parent_kwarg} {self.kwargs[self.parent_kwarg]!r} not found")
            self._computation = cached
        return cached


class _RunViewSet(_ComputationChildViewSet):
    resource_key = "run"
    collection_key = "runs"
    lookup_field = "run"
    lookup_value_regex = r"[0-9]+"
    serializer_class = ComputationRunSerializer

    def base_queryset(self) -> models.QuerySet[ComputationRun]:
        return ComputationRun.objects.filter(computation=self.computation).select_related(
            "computation__space__workspace"
        )

    def lookup(self, queryset: models.QuerySet[ComputationRun], key: str) -> ComputationRun | None:
        return queryset.filter(pk=int(key)).first()


class _MemberViewSet(_ComputationChildViewSet):
    resource_key = "member"
    collection_key = "members"
    lookup_field = "member"
    serializer_class = ComputationMemberSerializer
    list_ordering = ("pk",)

    def base_queryset(self) -> models.QuerySet[ComputationMember]:
        return ComputationMember.objects.filter(computation=self.computation).select_related(
            "profile", "computation__space__workspace"
        )

    def lookup(
        self, queryset: models.QuerySet[ComputationMember], key: str
    ) -> ComputationMember | None:
        return queryset.filter(profile__segment_id=key).first()


def _runs_docs(noun: str) -> dict[str, Any]:
    return {
        "list": extend_schema(
            summary=f"List {noun} Runs",
            description="Compute runs: trigger, status, step reached, attempts, counts "
            "(size, entered, exited), duration and error.",
        ),
        "retrieve": extend_schema(summary=f"Get {noun} Run"),
    }


def _members_docs(noun: str) -> dict[str, Any]:
    return {
        "list": extend_schema(
            summary=f"List {noun} Members",
            description="Current members (audiences) or profiles with a value (traits), "
            "paged by page_size / page_token.",
        ),
        "retrieve": extend_schema(summary=f"Get {noun} Member"),
    }


@extend_schema_view(**_runs_docs("Audience"))
class AudienceRunViewSet(_RunViewSet):
    kind = ComputationKind.AUDIENCE
    parent_kwarg = "audience"


@extend_schema_view(**_runs_docs("Computed Trait"))
class TraitRunViewSet(_RunViewSet):
    kind = ComputationKind.TRAIT
    parent_kwarg = "computed_trait"


@extend_schema_view(**_members_docs("Audience"))
class AudienceMemberViewSet(_MemberViewSet):
    kind = ComputationKind.AUDIENCE
    parent_kwarg = "audience"


@extend_schema_view(**_members_docs("Computed Trait"))
class TraitMemberViewSet(_MemberViewSet):
    kind = ComputationKind.TRAIT
    parent_kwarg = "computed_trait"
