from __future__ import annotations

from rest_framework import serializers

from privacy.models import SourceControls


class PrivacyControlsSerializer(serializers.Serializer):
    """A source's standard privacy controls (Update: ``update_mask.paths`` of
    ``block_red``, ``block_yellow``)."""

    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/sources/{source}/privacy-controls"
    )
    source_name = serializers.SerializerMethodField(
        help_text="The source: workspaces/{workspace}/sources/{source}"
    )
    block_red = serializers.BooleanField(
        help_text="Remove the fields the Data Inventory classifies Red from this source's "
        "events at the Tracking API, before they are stored or sent anywhere"
    )
    block_yellow = serializers.BooleanField(help_text="The same for fields classified Yellow")
    update_time = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_name(self, obj: SourceControls) -> str:
        return f"workspaces/{obj.source.workspace.slug}/sources/{obj.source.slug}/privacy-controls"

    def get_source_name(self, obj: SourceControls) -> str:
        return f"workspaces/{obj.source.workspace.slug}/sources/{obj.source.slug}"
