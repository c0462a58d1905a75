from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from switchyard import names
from switchyard.api.schema import PatternCharField
from workspace import selectors
from workspace.models import AccessToken, AuditEntry, Label, Workspace
from workspace.services import labels as labels_service
from workspace.services import tokens as tokens_service


class WorkspaceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name", read_only=True, help_text="Resource name: workspaces/{slug}"
    )
    display_name = serializers.CharField(max_length=100, allow_blank=True)
    settings = serializers.DictField(required=False, help_text="Free-form workspace settings")

    class Meta:
        model = Workspace
        fields = ("name", "id", "display_name", "settings", "create_time", "update_time")
        read_only_fields = ("id", "create_time", "update_time")


class WorkspaceCreateSerializer(serializers.Serializer):
    name = PatternCharField(
        pattern=names.name_pattern("workspaces"),
        help_text="workspaces/{slug}; the slug cannot change later",
    )
    display_name = serializers.CharField(max_length=100)
    settings = serializers.DictField(required=False, default=dict)

    def validate_name(self, value: str) -> str:
        (slug,) = names.parse(value, "workspaces")
        return names.validate_slug(slug)


class AuditEventSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="workspaces/{workspace}/audit-events/{id}")
    id = serializers.CharField(source="pk", read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = (
            "name",
            "id",
            "time",
            "action",
            "resource_type",
            "resource_name",
            "actor",
            "before",
            "after",
        )
        read_only_fields = fields

    def get_name(self, entry: AuditEntry) -> str:
        workspace = self.context["workspace"]
        return names.build(("workspaces", workspace.slug), ("audit-events", str(entry.pk)))

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["user", "token", "system"]},
                "user": {"type": "string", "nullable": True},
                "token": {"type": "string", "nullable": True},
            },
        }
    )
    def get_actor(self, entry: AuditEntry) -> dict[str, Any]:
        return selectors.actor_of(entry)

    def to_representation(self, instance: AuditEntry) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        # A diff can hold event data (a sample event): masked as the reader may see it.
        mask = self.context.get("mask")
        if mask is not None and mask.active:
            data["before"] = mask.json(data["before"])
            data["after"] = mask.json(data["after"])
        return data


class AccessTokenSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="workspaces/{workspace}/access-tokens/{id}")
    id = serializers.CharField(source="pk", read_only=True)
    creator = serializers.CharField(source="user.username", read_only=True)
    description = serializers.CharField(max_length=200, allow_blank=True)

    class Meta:
        model = AccessToken
        fields: tuple[str, ...] = (
            "name",
            "id",
            "description",
            "access",
            "scope",
            "prefix",
            "creator",
            "create_time",
            "last_used_time",
        )
        read_only_fields = ("access", "scope", "prefix", "create_time", "last_used_time")

    def get_name(self, token: AccessToken) -> str:
        return tokens_service.resource_name(token)


class AccessTokenCreateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200)
    access = serializers.ChoiceField(
        choices=AccessToken.Access.choices, default=AccessToken.Access.MEMBER
    )
    scope = serializers.ChoiceField(
        choices=AccessToken.Scope.choices,
        default=AccessToken.Scope.WORKSPACE,
        help_text="workspace:read tokens answer 'insufficient scope' to every write",
    )


class CreatedAccessTokenSerializer(AccessTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret. Shown only this once.")

    class Meta(AccessTokenSerializer.Meta):
        fields = (*AccessTokenSerializer.Meta.fields, "token")


class LabelSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/labels/{key}:{value}"
    )
    key = serializers.CharField(read_only=True, help_text="Fixed: labels cannot be renamed")
    value = serializers.CharField(read_only=True, help_text="Fixed: labels cannot be renamed")
    description = serializers.CharField(max_length=labels_service.DESCRIPTION_MAX, allow_blank=True)

    class Meta:
        model = Label
        fields = ("name", "key", "value", "description", "create_time")
        read_only_fields = ("create_time",)

    def get_name(self, label: Label) -> str:
        return labels_service.resource_name(label)


class LabelCreateSerializer(serializers.Serializer):
    # The service checks key and value, so its message (naming the rule) is the one shown.
    key = PatternCharField(
        pattern=labels_service.PART_PATTERN,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"A key {labels_service.PART_RULE}",
    )
    value = PatternCharField(
        pattern=labels_service.PART_PATTERN,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"A value {labels_service.PART_RULE}",
    )
    description = serializers.CharField(
        max_length=labels_service.DESCRIPTION_MAX, allow_blank=True, required=False, default=""
    )
