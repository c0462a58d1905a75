"""Serializers of spaces, their connected sources and their access tokens."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from engage.models import Space, SpaceSource, SpaceToken
from switchyard import names
from switchyard.api.schema import PatternCharField

LABELS_HELP = 'key:value labels from the workspace catalogue, e.g. ["environment:prod"]'


class SpaceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name", read_only=True, help_text="workspaces/{workspace}/spaces/{space}"
    )
    id = serializers.CharField(source="key_id", read_only=True, help_text="spa_...")
    slug = serializers.CharField(read_only=True, help_text="immutable: the space's URL")
    display_name = serializers.CharField(max_length=100)
    labels = serializers.ListField(
        child=serializers.CharField(), source="label_names", required=False, help_text=LABELS_HELP
    )
    required_labels = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="the connection policy: labels a source must carry to connect",
    )
    batch_cadence_hours = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=168,
        help_text="batch audiences and computed traits are computed every this many hours",
    )
    delete_time = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="set while a deletion is requested: when the space and its data go",
    )

    class Meta:
        model = Space
        fields = (
            "name",
            "id",
            "slug",
            "display_name",
            "labels",
            "required_labels",
            "batch_cadence_hours",
            "delete_time",
            "create_time",
            "update_time",
        )
        read_only_fields = ("create_time", "update_time")


class SpaceCreateSerializer(serializers.Serializer):
    name = PatternCharField(
        pattern=names.name_pattern("workspaces", "spaces"),
        help_text="workspaces/{workspace}/spaces/{slug}, inside the workspace of the path",
    )
    display_name = serializers.CharField(max_length=100)
    labels = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    required_labels = serializers.ListField(
        child=serializers.CharField(), required=False, default=list
    )

    def validate_name(self, value: str) -> str:
        workspace_slug, slug = names.parse(value, "workspaces", "spaces")
        if workspace_slug != self.context["workspace"].slug:
            raise serializers.ValidationError("the space must be named inside this workspace")
        return names.validate_slug(slug)


class SpaceSourceSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/spaces/{space}/sources/{source}"
    )
    source = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="workspaces/{workspace}/sources/{source}"
    )
    display_name = serializers.CharField(source="source.display_name", read_only=True)
    labels = serializers.ListField(
        child=serializers.CharField(), source="source.label_names", read_only=True
    )
    replay_status = serializers.CharField(read_only=True)
    replayed = serializers.IntegerField(read_only=True)
    replay_failure = serializers.CharField(
        read_only=True, help_text="why the replay stopped, when its status is FAILED"
    )

    class Meta:
        model = SpaceSource
        fields = (
            "name",
            "source",
            "display_name",
            "labels",
            "replay_status",
            "replayed",
            "replay_failure",
            "create_time",
        )
        read_only_fields = fields

    def get_name(self, obj: SpaceSource) -> str:
        return f"{obj.space.resource_name}/sources/{obj.source.slug}"

    def get_source(self, obj: SpaceSource) -> str:
        return str(obj.source.resource_name)


class SpaceSourceCreateSerializer(serializers.Serializer):
    source = PatternCharField(  # type: ignore[assignment]
        pattern=names.name_pattern("workspaces", "sources"),
        help_text="the source to connect: workspaces/{workspace}/sources/{source}",
    )
    replay = serializers.BooleanField(
        required=False,
        default=True,
        help_text="backfill the space with the source's last 30 days of stored events",
    )

    def validate_source(self, value: str) -> str:
        workspace_slug, slug = names.parse(value, "workspaces", "sources", field="source")
        if workspace_slug != self.context["workspace"].slug:
            raise serializers.ValidationError("the source must be in this workspace")
        return slug


class SpaceTokenSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/spaces/{space}/access-tokens/{access_token}"
    )
    id = serializers.CharField(source="pk", read_only=True)
    prefix = serializers.CharField(read_only=True, help_text="the secret's first characters")
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = SpaceToken
        fields: tuple[str, ...] = (
            "name",
            "id",
            "prefix",
            "description",
            "create_time",
            "last_used",
            "revoked",
            "revoke_time",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_name(self, obj: SpaceToken) -> str:
        return f"{obj.space.resource_name}/access-tokens/{obj.pk}"

    def get_revoked(self, obj: SpaceToken) -> bool:
        return obj.revoke_time is not None


class SpaceTokenCreatedSerializer(SpaceTokenSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="the token, in Create's answer only: the Profile API's Basic auth username",
    )

    class Meta(SpaceTokenSerializer.Meta):
        fields = (*SpaceTokenSerializer.Meta.fields, "secret")
        read_only_fields = fields


class SpaceTokenCreateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200, required=False, default="")


def with_secret(data: dict[str, Any], secret: str) -> dict[str, Any]:
    return {**data, "secret": secret}
