"""Config API shapes of Reverse ETL mappings and their sync runs."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Count
from rest_framework import serializers

from connections.reverse_etl.api.serializers import MODEL_NAME, parse_name
from connections.reverse_etl.models import RetlMapping, RetlSync, RetlSyncRecord
from switchyard import names
from switchyard.api.schema import PatternCharField
from switchyard.errors import InvalidArgument

_SLUG = names.SLUG_PATTERN.removeprefix("^").removesuffix("$")
DESTINATION_NAME = f"^workspaces/{_SLUG}/sources/{_SLUG}/destinations/[A-Za-z0-9_]+$"
MAPPING_KEY = r"rmap_[a-z0-9]+"
SYNC_KEY = r"rsyn_[a-z0-9]+"


def parse_destination(value: str, workspace_slug: str) -> str:
    """``workspaces/{w}/sources/{s}/destinations/{id}`` inside ``workspace_slug`` -> id."""
    match = re.fullmatch(r"workspaces/([^/]+)/sources/[^/]+/destinations/([^/]+)", value)
    if match is None:
        raise InvalidArgument(
            f"invalid destination {value!r}: expected "
            "'workspaces/{workspace}/sources/{source}/destinations/{destination}'",
            field="destination",
        )
    if match.group(1) != workspace_slug:
        raise InvalidArgument("destination must be inside this workspace", field="destination")
    return match.group(2)


SELECTIONS = tuple(RetlMapping.RecordSelection.values)
FIELD_MAPPINGS_HELP = (
    "action field -> value or mapping-kit directive; a model column is read as "
    '{"@path": "$.properties.<column>"}'
)


class RetlMappingSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/reverse-etl/mappings/{mapping}",
    )
    id = serializers.CharField(source="key_id", read_only=True, help_text="rmap_...")
    model = serializers.CharField(source="model.resource_name", read_only=True)
    destination = serializers.CharField(source="destination.resource_name", read_only=True)
    action = serializers.CharField(read_only=True, help_text="an action of the destination")
    display_name = serializers.CharField(max_length=100)
    field_mappings = serializers.JSONField(required=False, help_text=FIELD_MAPPINGS_HELP)
    record_selection = serializers.ChoiceField(
        choices=SELECTIONS,
        required=False,
        help_text="ADDED, UPDATED, ADDED_OR_UPDATED (default) or DELETED records",
    )
    enabled = serializers.BooleanField(required=False)

    class Meta:
        model = RetlMapping
        fields = (
            "name",
            "id",
            "model",
            "destination",
            "display_name",
            "action",
            "field_mappings",
            "record_selection",
            "enabled",
            "create_time",
            "update_time",
        )
        read_only_fields = ("create_time", "update_time")


class RetlMappingCreateSerializer(serializers.Serializer):
    model = PatternCharField(pattern=MODEL_NAME, help_text="the Reverse ETL model whose rows sync")
    destination = PatternCharField(
        pattern=DESTINATION_NAME, help_text="a destination of this workspace"
    )
    action = serializers.CharField(max_length=64, help_text="an action key of the destination")
    display_name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="defaults to the action's name",
    )
    field_mappings = serializers.JSONField(
        required=False, default=None, help_text=FIELD_MAPPINGS_HELP + "; defaults to the action's"
    )
    record_selection = serializers.ChoiceField(choices=SELECTIONS, default="ADDED_OR_UPDATED")
    enabled = serializers.BooleanField(default=True)

    def validate_model(self, value: str) -> str:
        return parse_name(value, "models", self.context["workspace"].slug, field="model")

    def validate_destination(self, value: str) -> str:
        return parse_destination(value, self.context["workspace"].slug)


class RetlSyncSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/reverse-etl/mappings/{mapping}/syncs/{sync}",
    )
    id = serializers.CharField(source="key_id", read_only=True, help_text="rsyn_...")
    extraction = serializers.SerializerMethodField()
    load = serializers.SerializerMethodField()

    class Meta:
        model = RetlSync
        fields = (
            "name",
            "id",
            "status",
            "extraction",
            "load",
            "error",
            "cancel_reason",
            "create_time",
            "update_time",
            "finish_time",
        )
        read_only_fields = fields

    def get_extraction(self, sync: RetlSync) -> dict[str, Any]:
        return {
            "extracted": sync.extracted,
            "added": sync.added,
            "updated": sync.updated,
            "deleted": sync.deleted,
            "duplicates": sync.duplicates,
            "null_ids": sync.null_ids,
        }

    def get_load(self, sync: RetlSync) -> dict[str, Any]:
        failed = (
            sync.records.filter(outcome=RetlSyncRecord.Outcome.FAILED)
            .order_by("pk")
            .values("record_id", "change", "reason", "payload")[:10]
        )
        by_change = dict(
            sync.records.filter(outcome=RetlSyncRecord.Outcome.SUCCESSFUL)
            .values("change")
            .annotate(n=Count("pk"))
            .values_list("change", "n")
        )
        return {
            "successful": sync.successful,
            "new": by_change.get("added", 0),
            "updated": by_change.get("updated", 0),
            "deleted": by_change.get("deleted", 0),
            "failed": sync.failed,
            "skipped": sync.skipped,
            "failed_samples": list(failed),
        }
