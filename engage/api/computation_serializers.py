"""Serializers of audiences and computed traits, their runs and members. The
``definition`` fields are published in OpenAPI as the engage.definitions JSON
Schemas (``Audience*`` / ``Trait*`` components)."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from engage import definitions
from engage.models import Computation, ComputationMember, ComputationRun

DEFINITION_HELP = (
    "the definition (JSON; engage.md §12.2 for audiences). Values by operator: null for "
    "exists/not_exists, a non-empty list for in/contains_any, an ISO 8601 string for "
    "before_date/after_date, {value, unit} for within_last/within_next/before_last/after_next."
)


class DefinitionField(serializers.JSONField):
    """A definition: published as its JSON Schema's OpenAPI components."""

    components: ClassVar[tuple[str, dict[str, Any]]]


class AudienceDefinitionField(DefinitionField):
    components = ("AudienceDefinition", definitions.AUDIENCE_SCHEMA)


class TraitDefinitionField(DefinitionField):
    components: ClassVar[tuple[str, dict[str, Any]]] = ("TraitDefinition", definitions.TRAIT_SCHEMA)


class _DefinitionExtension(OpenApiSerializerFieldExtension):
    target_class = DefinitionField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        prefix, _schema = self.target.components
        return {"$ref": f"#/components/schemas/{prefix}", "description": DEFINITION_HELP}


def add_definition_components(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A drf-spectacular postprocessing hook (after its enum hook, which would
    otherwise name every ``kind``/``op``/``cmp`` set of the definition grammar):
    the definitions' JSON Schemas as OpenAPI components."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for field in (AudienceDefinitionField, TraitDefinitionField):
        prefix, schema = field.components
        for name, part in definitions.openapi_components(prefix, schema).items():
            schemas.setdefault(name, part)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


COMPUTATION_FIELDS = (
    "name",
    "id",
    "key",
    "display_name",
    "description",
    "folder",
    "definition",
    "compute_mode",
    "status",
    "enabled",
    "compute_without_destinations",
    "size",
    "failure",
    "last_run_time",
    "last_success_time",
    "create_time",
    "update_time",
)
READ_ONLY = (
    "compute_mode",
    "status",
    "size",
    "failure",
    "last_run_time",
    "last_success_time",
    "create_time",
    "update_time",
)


class AudienceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/spaces/{space}/audiences/{key}",
    )
    id = serializers.CharField(source="key_id", read_only=True, help_text="aud_... / tra_...")
    key = serializers.CharField(
        read_only=True, help_text="snake_case, immutable, never reused in the space"
    )
    display_name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    folder = serializers.CharField(max_length=100, required=False, allow_blank=True)
    definition = AudienceDefinitionField(help_text=DEFINITION_HELP)
    enabled = serializers.BooleanField(required=False)
    compute_without_destinations = serializers.BooleanField(
        required=False,
        help_text="batch only: compute even with no destination connected (otherwise "
        "NOT_COMPUTING until one is); real-time ones always compute",
    )
    compute_mode = serializers.CharField(
        read_only=True, help_text="realtime | batch, decided at creation (immutable)"
    )
    status = serializers.CharField(
        read_only=True, help_text="PREPARING, COMPUTING, LIVE, NOT_COMPUTING, DISABLED or FAILED"
    )

    class Meta:
        model = Computation
        fields = COMPUTATION_FIELDS
        read_only_fields = READ_ONLY


class TraitSerializer(AudienceSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/spaces/{space}/computed-traits/{key}",
    )
    definition = TraitDefinitionField(help_text=DEFINITION_HELP)  # type: ignore[assignment]

    class Meta(AudienceSerializer.Meta):
        pass


class AudienceCreateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=200)
    key = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="snake_case; by default the display name snake-cased",
    )
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    folder = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    definition = AudienceDefinitionField()
    enabled = serializers.BooleanField(required=False, default=True)
    compute_without_destinations = serializers.BooleanField(required=False, default=True)


class TraitCreateSerializer(AudienceCreateSerializer):
    definition = TraitDefinitionField()  # type: ignore[assignment]


class AudiencePreviewSerializer(serializers.Serializer):
    definition = AudienceDefinitionField()
    key = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="when editing an existing one: its key (cycles are checked through it)",
    )


class TraitPreviewSerializer(AudiencePreviewSerializer):
    definition = TraitDefinitionField()  # type: ignore[assignment]


class PreviewResultSerializer(serializers.Serializer):
    size = serializers.IntegerField(help_text="profiles matching now (the size estimate)")
    sample = serializers.ListField(
        child=serializers.CharField(), help_text="segment ids of the first matching profiles"
    )
    compute_mode = serializers.CharField()
    batch_reasons = serializers.ListField(child=serializers.DictField())


class ComputationRunSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="{computation}/runs/{run}")
    id = serializers.CharField(source="pk", read_only=True)
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = ComputationRun
        fields: tuple[str, ...] = (
            "name",
            "id",
            "trigger",
            "status",
            "step",
            "attempts",
            "as_of",
            "size",
            "entered",
            "exited",
            "error",
            "create_time",
            "start_time",
            "finish_time",
            "duration_seconds",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_name(self, obj: ComputationRun) -> str:
        return f"{obj.computation.resource_name}/runs/{obj.pk}"

    def get_duration_seconds(self, obj: ComputationRun) -> float | None:
        if obj.start_time is None or obj.finish_time is None:
            return None
        return (obj.finish_time - obj.start_time).total_seconds()


class ComputationMemberSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="{computation}/members/{segment_id}")
    segment_id = serializers.CharField(source="profile.segment_id", read_only=True)
    value = serializers.JSONField(read_only=True)

    class Meta:
        model = ComputationMember
        fields: tuple[str, ...] = ("name", "segment_id", "value", "since", "update_time")
        read_only_fields: tuple[str, ...] = fields

    def get_name(self, obj: ComputationMember) -> str:
        return f"{obj.computation.resource_name}/members/{obj.profile.segment_id}"
