from __future__ import annotations

from rest_framework import serializers

from privacy.matching import PATTERN_MAX, Classification, MatchOn, Precision
from privacy.services import matchers as service

_CLASSIFICATIONS = [c.value for c in Classification]
_MATCH_ON = [c.value for c in MatchOn]
_PRECISIONS = [c.value for c in Precision]
PATTERN_HELP = (
    "An RE2 regular expression (the syntax of Go's regexp package: no lookarounds or "
    "backreferences), searched in the value, or in the key name when matching on the key "
    "(optional there). Required when matching on the value."
)


class PiiMatcherSerializer(serializers.Serializer):
    """A matcher as List and Get show it, and what Update may change (custom only)."""

    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/pii-matchers/{pii_matcher}",
    )
    id = serializers.CharField(read_only=True, help_text="a default's slug, or pm_...")
    display_name = serializers.CharField(
        max_length=service.NAME_MAX,
        help_text="The matcher's name; key matchers match field names against it too",
    )
    classification = serializers.ChoiceField(choices=_CLASSIFICATIONS)
    match_on = serializers.ChoiceField(choices=_MATCH_ON)
    precision = serializers.ChoiceField(
        choices=_PRECISIONS,
        help_text="Key matching: EXACT names only, or SIMILAR (Sørensen-Dice > 0.7)",
    )
    pattern = serializers.CharField(
        max_length=PATTERN_MAX, allow_blank=True, trim_whitespace=False, help_text=PATTERN_HELP
    )
    synonyms = serializers.ListField(
        child=serializers.CharField(max_length=service.SYNONYM_MAX),
        max_length=service.SYNONYMS_MAX,
        help_text="Other key names this matcher flags",
    )
    enabled = serializers.BooleanField()
    default = serializers.BooleanField(
        read_only=True, help_text="A default matcher: read-only, overridden by a custom one"
    )
    overrides = serializers.CharField(
        read_only=True, help_text="The id of the default this custom matcher replaces, or ''"
    )
    overridden_by = serializers.CharField(
        read_only=True, help_text="The id of the custom matcher replacing this default, or ''"
    )
    create_time = serializers.DateTimeField(read_only=True, allow_null=True)
    update_time = serializers.DateTimeField(read_only=True, allow_null=True)


class PiiMatcherCreateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=service.NAME_MAX)
    classification = serializers.ChoiceField(choices=_CLASSIFICATIONS)
    match_on = serializers.ChoiceField(choices=_MATCH_ON)
    precision = serializers.ChoiceField(
        choices=_PRECISIONS, required=False, default=Precision.EXACT.value
    )
    pattern = serializers.CharField(
        max_length=PATTERN_MAX,
        allow_blank=True,
        trim_whitespace=False,
        required=False,
        default="",
        help_text=PATTERN_HELP,
    )
    synonyms = serializers.ListField(
        child=serializers.CharField(max_length=service.SYNONYM_MAX),
        max_length=service.SYNONYMS_MAX,
        required=False,
        default=list,
    )
    enabled = serializers.BooleanField(required=False, default=True)


class MatcherTestRequestSerializer(serializers.Serializer):
    event = serializers.DictField(help_text="A sample event, as a library sends it")


class MatcherFlagSerializer(serializers.Serializer):
    matcher = serializers.CharField(help_text="the matcher's resource name")
    id = serializers.CharField()
    display_name = serializers.CharField()
    classification = serializers.ChoiceField(choices=_CLASSIFICATIONS)
    match_on = serializers.ChoiceField(choices=_MATCH_ON)
    default = serializers.BooleanField()
    paths = serializers.ListField(
        child=serializers.CharField(), help_text="the field paths it flags, e.g. traits.email"
    )


class MatcherTestResultSerializer(serializers.Serializer):
    matches = MatcherFlagSerializer(many=True)
