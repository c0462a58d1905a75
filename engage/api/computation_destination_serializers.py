"""Serializers of the destinations connected to an audience or computed trait."""

from __future__ import annotations

from rest_framework import serializers

from engage.models import ComputationDestination
from engage.services.computation_destinations import EVENT_NAME_MAX


class SyncStatusSerializer(serializers.Serializer):
    state = serializers.CharField(
        source="sync_state", help_text="PENDING, SYNCING, SYNCED or FAILED"
    )
    backfilled = serializers.BooleanField(
        help_text="whether the first sync (every current member / value) was sent"
    )
    backfill_time = serializers.DateTimeField(allow_null=True)
    last_sync_time = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    profiles_synced = serializers.IntegerField()
    messages_sent = serializers.IntegerField(
        help_text="Identify / Track calls handed to delivery (one per identifier value)"
    )


class ComputationDestinationSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="{audience or computed trait}/destinations/{destination id}",
    )
    destination_id = serializers.CharField(source="destination.key_id", read_only=True)
    display_name = serializers.CharField(source="destination.display_name", read_only=True)
    definition = serializers.CharField(
        source="destination.definition", read_only=True, help_text="catalog destination slug"
    )
    send_identify = serializers.BooleanField(required=False)
    send_track = serializers.BooleanField(required=False)
    entered_event = serializers.CharField(max_length=EVENT_NAME_MAX, required=False)
    exited_event = serializers.CharField(max_length=EVENT_NAME_MAX, required=False)
    trait_event = serializers.CharField(max_length=EVENT_NAME_MAX, required=False)
    include_anonymous = serializers.BooleanField(required=False)
    sync_status = SyncStatusSerializer(source="*", read_only=True)

    class Meta:
        model = ComputationDestination
        fields = (
            "name",
            "destination_id",
            "display_name",
            "definition",
            "send_identify",
            "send_track",
            "entered_event",
            "exited_event",
            "trait_event",
            "include_anonymous",
            "sync_status",
            "create_time",
            "update_time",
        )
        read_only_fields = ("create_time", "update_time")


class ComputationDestinationCreateSerializer(serializers.Serializer):
    destination_id = serializers.CharField(
        max_length=32, help_text="the id of a destination of the workspace (des_...)"
    )
    send_identify = serializers.BooleanField(required=False, default=True)
    send_track = serializers.BooleanField(required=False, default=False)
    entered_event = serializers.CharField(
        max_length=EVENT_NAME_MAX, required=False, default="Audience Entered"
    )
    exited_event = serializers.CharField(
        max_length=EVENT_NAME_MAX, required=False, default="Audience Exited"
    )
    trait_event = serializers.CharField(
        max_length=EVENT_NAME_MAX, required=False, default="Trait Computed"
    )
    include_anonymous = serializers.BooleanField(required=False, default=False)
