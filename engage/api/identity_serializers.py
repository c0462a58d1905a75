"""Serializers of a space's identity resolution settings (identifiers)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engage.identity import defaults
from engage.models import IdentifierSetting, Period
from engage.services import identity_settings as service

PERIODS = [p.value for p in Period]
LIMIT_HELP = "The most values of this type a profile may hold (ever, or per sliding period)"
PERIOD_HELP = "EVER, or the sliding window the limit counts values in"
BLOCKED_HELP = (
    "Values never promoted to identifiers: EXACT matches, or REGEX patterns (RE2, the "
    "syntax of Go's regexp package)"
)


class BlockedValueSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=service.BLOCKED_VALUE_MAX, trim_whitespace=False)
    kind = serializers.ChoiceField(choices=list(service.KINDS))


class IdentifierSerializer(serializers.ModelSerializer):
    """An identifier as List and Get show it, and what Update may change."""

    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/spaces/{space}/identifiers/{identifier}"
    )
    type = serializers.CharField(read_only=True, help_text="user_id, email, ... or a custom name")
    priority = serializers.IntegerField(
        min_value=1, help_text="1 is the highest; the lowest is demoted first past a limit"
    )
    limit = serializers.IntegerField(min_value=1, max_value=service.LIMIT_MAX, help_text=LIMIT_HELP)
    period = serializers.ChoiceField(choices=PERIODS, help_text=PERIOD_HELP)
    blocked_values = BlockedValueSerializer(many=True, help_text=BLOCKED_HELP)
    custom = serializers.BooleanField(
        read_only=True, help_text="a custom identifier (removable); defaults cannot be removed"
    )

    class Meta:
        model = IdentifierSetting
        fields = (
            "name",
            "type",
            "priority",
            "limit",
            "period",
            "blocked_values",
            "custom",
            "update_time",
        )
        read_only_fields = ("update_time",)

    @extend_schema_field(OpenApiTypes.STR)
    def get_name(self, obj: IdentifierSetting) -> str:
        return service.resource_name(obj)


class IdentifierCreateSerializer(serializers.Serializer):
    type = serializers.CharField(
        max_length=service.NAME_MAX,
        help_text="The identifier name: lower-case (externalIDs must be lower-case)",
    )
    limit = serializers.IntegerField(
        required=False, default=defaults.DEFAULT_LIMIT, help_text=LIMIT_HELP
    )
    period = serializers.ChoiceField(
        choices=PERIODS, required=False, default=defaults.DEFAULT_PERIOD, help_text=PERIOD_HELP
    )
    blocked_values = BlockedValueSerializer(
        many=True,
        required=False,
        help_text=BLOCKED_HELP + "; the suggested blocks when left out",
    )
    priority = serializers.IntegerField(
        required=False, help_text="where to place it; last when left out"
    )


class IdentifierImportSerializer(serializers.Serializer):
    from_space = serializers.CharField(
        help_text="the slug of the space of this workspace to copy the settings from"
    )


class IdentifierListSerializer(serializers.Serializer):
    identifiers = IdentifierSerializer(many=True)
