from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from privacy.models import Regulation, RegulationStatus, RegulationType, SubjectType, SuppressedUser
from privacy.services import regulations as service

_TYPES = [c.value for c in RegulationType]
_SUBJECTS = [c.value for c in SubjectType]
_STATUSES = [c.value for c in RegulationStatus]
COUNTS_HELP = (
    "What processing did, per store: events, deliveries (delivery records deleted), "
    "delivery_batches and delivery_progress (outbox rows the users' events were removed "
    "from), suppressed / unsuppressed (users added to or removed from the suppression list), "
    "restarts (runs started again after a worker died mid-way)"
)


class RegulationSerializer(serializers.Serializer):
    name = serializers.CharField(
        source="resource_name", read_only=True, help_text="workspaces/{workspace}/regulations/{id}"
    )
    id = serializers.CharField(source="key_id", read_only=True, help_text="rg_...")
    regulation_type = serializers.ChoiceField(choices=_TYPES, read_only=True)
    subject_type = serializers.ChoiceField(choices=_SUBJECTS, read_only=True)
    subject_ids = serializers.ListField(child=serializers.CharField(), read_only=True)
    status = serializers.ChoiceField(
        choices=_STATUSES,
        read_only=True,
        help_text="INITIALIZED (waiting), RUNNING, FINISHED, FAILED (see error), "
        "NOT_SUPPORTED (OBJECT_ID subjects: see error)",
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text=COUNTS_HELP
    )
    error = serializers.CharField(read_only=True, help_text="why it failed or is not supported")
    created_by = serializers.SerializerMethodField(
        help_text="the username, or '' (a token's owner gone)"
    )
    create_time = serializers.DateTimeField(read_only=True)
    start_time = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="when processing last started (null until it starts; suppression-only "
        "and UNSUPPRESS requests never start)",
    )
    finish_time = serializers.DateTimeField(read_only=True, allow_null=True)

    @extend_schema_field(str)
    def get_created_by(self, regulation: Regulation) -> str:
        return regulation.created_by.get_username() if regulation.created_by else ""


class RegulationCreateSerializer(serializers.Serializer):
    regulation_type = serializers.ChoiceField(choices=_TYPES)
    subject_type = serializers.ChoiceField(
        choices=_SUBJECTS, help_text="USER_ID; OBJECT_ID deletions are recorded NOT_SUPPORTED"
    )
    subject_ids = serializers.ListField(
        child=serializers.CharField(
            max_length=service.SUBJECT_ID_MAX, allow_blank=True, trim_whitespace=False
        ),
        help_text=f"1 to {service.SUBJECT_IDS_MAX} ids (duplicates count once)",
    )


class SuppressedUserSerializer(serializers.Serializer):
    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/suppressed-users/{user_id}"
    )
    user_id = serializers.CharField(read_only=True)
    regulation = serializers.SerializerMethodField(help_text="the regulation that suppressed it")
    regulation_type = serializers.SerializerMethodField()
    create_time = serializers.DateTimeField(read_only=True)

    @extend_schema_field(str)
    def get_name(self, row: SuppressedUser) -> str:
        return f"workspaces/{row.workspace.slug}/suppressed-users/{row.user_id}"

    @extend_schema_field(str)
    def get_regulation(self, row: SuppressedUser) -> str:
        return f"workspaces/{row.workspace.slug}/regulations/{row.regulation.key_id}"

    @extend_schema_field(serializers.ChoiceField(choices=_TYPES))
    def get_regulation_type(self, row: SuppressedUser) -> str:
        return row.regulation.regulation_type
