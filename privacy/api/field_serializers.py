from __future__ import annotations

from rest_framework import serializers

from privacy.services import fields as service

_CLASSIFICATIONS = list(service.CHOICES)
_CLASSIFICATION_HELP = (
    "RED, YELLOW or GREEN. A field once RED or YELLOW stays masked for users without "
    "PII Access when marked GREEN (see restricted)."
)


class InboxRowSerializer(serializers.Serializer):
    """A field path a source sent in the last 7 days."""

    path = serializers.CharField(help_text="e.g. traits.email (arrays without indexes)")
    source = serializers.CharField(  # type: ignore[assignment]
        source="source_name", help_text="workspaces/{w}/sources/{s}"
    )
    event_types = serializers.ListField(child=serializers.CharField())
    event_names = serializers.ListField(
        child=serializers.CharField(), help_text="names of the track, page and screen events"
    )
    sample_count = serializers.IntegerField(help_text="events that carried it (all time)")
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    recommended_classification = serializers.ChoiceField(
        source="recommended",
        choices=_CLASSIFICATIONS,
        help_text="The matchers' recommendation (the Inventory's classification once the "
        "path is in it), when last seen",
    )
    matcher = serializers.CharField(
        source="matcher_name", help_text="The pii-matcher that flagged it, or ''"
    )
    classification = serializers.ChoiceField(
        choices=_CLASSIFICATIONS,
        help_text="The Inventory's classification of the path, else the recommendation",
    )
    inventory_field = serializers.CharField(
        help_text="workspaces/{w}/privacy/inventory/{id} when the path is in the Inventory, or ''"
    )
    sample = serializers.JSONField(
        allow_null=True,
        help_text="The value as last seen (strings cut to 200 characters, objects and "
        "arrays to a 1 KB excerpt), masked like any event data for readers without PII "
        "Access; null when none is kept (an empty value, or its user was erased)",
    )


class InventoryFieldSerializer(serializers.Serializer):
    """An Inventory field as List and Get show it, and what Update may change."""

    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/privacy/inventory/{inventory_field}",
    )
    id = serializers.CharField(source="key_id", read_only=True)
    path = serializers.CharField(read_only=True)
    classification = serializers.ChoiceField(
        choices=_CLASSIFICATIONS, help_text=_CLASSIFICATION_HELP
    )
    restricted = serializers.BooleanField(
        read_only=True,
        help_text="Ever RED or YELLOW: values stay masked for users without PII Access",
    )
    create_time = serializers.DateTimeField(read_only=True)
    update_time = serializers.DateTimeField(read_only=True)


class InventoryFieldCreateSerializer(serializers.Serializer):
    path = serializers.CharField(
        max_length=service.PATH_MAX,
        help_text="A field path under context, traits or properties, e.g. traits.email",
    )
    classification = serializers.ChoiceField(
        choices=_CLASSIFICATIONS, help_text=_CLASSIFICATION_HELP
    )
