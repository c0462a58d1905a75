"""Serializers of Reverse ETL sources and models. Secrets are write-only: answers
say whether a password or DSN is set, never what it is."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from connections.reverse_etl.models import RetlModel, RetlSource
from connections.reverse_etl.models.queries import IDENTIFIER_MAX, QUERY_MAX
from connections.reverse_etl.services import models as model_service
from connections.reverse_etl.warehouses import catalog
from switchyard import names
from switchyard.api.schema import PatternCharField
from switchyard.errors import InvalidArgument

_SLUG = names.SLUG_PATTERN.removeprefix("^").removesuffix("$")
SOURCE_NAME = f"^workspaces/{_SLUG}/reverse-etl/sources/{_SLUG}$"
MODEL_NAME = f"^workspaces/{_SLUG}/reverse-etl/models/{_SLUG}$"


def parse_name(value: str, collection: str, workspace_slug: str, field: str = "name") -> str:
    """``workspaces/{w}/reverse-etl/{collection}/{slug}`` inside ``workspace_slug`` -> slug."""
    match = re.fullmatch(rf"workspaces/([^/]+)/reverse-etl/{collection}/([^/]+)", value)
    expected = f"workspaces/{{workspace}}/reverse-etl/{collection}/{{slug}}"
    if match is None:
        raise InvalidArgument(f"invalid {field} {value!r}: expected {expected!r}", field=field)
    if match.group(1) != workspace_slug:
        raise InvalidArgument(f"{field} must be inside this workspace", field=field)
    return match.group(2)


class RetlSourceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/reverse-etl/sources/{source}",
    )
    id = serializers.CharField(source="key_id", read_only=True, help_text="rsrc_...")
    display_name = serializers.CharField(max_length=100)
    warehouse = serializers.CharField(read_only=True, help_text="a warehouse of the catalog")
    host = serializers.CharField(required=False, allow_blank=True, max_length=255)
    port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    database = serializers.CharField(required=False, allow_blank=True, max_length=255)
    username = serializers.CharField(required=False, allow_blank=True, max_length=255)
    ssl_mode = serializers.ChoiceField(choices=RetlSource.SslMode.values, required=False)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="write-only; stored encrypted, never returned ('' clears it)",
    )
    dsn = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="write-only libpq connection string or postgresql:// URI, instead of "
        "host/port/database/username; stored encrypted, never returned",
    )
    password_set = serializers.BooleanField(read_only=True)
    dsn_set = serializers.BooleanField(read_only=True)
    bookkeeping = serializers.CharField(
        read_only=True,
        help_text="where the snapshots live: WAREHOUSE (schema __switchyard_retl), SWITCHYARD "
        "(Switchyard's own database: the user may only read), or '' until the first test "
        "connection or sync decides; kept once decided",
    )

    class Meta:
        model = RetlSource
        fields = (
            "name",
            "id",
            "display_name",
            "warehouse",
            "host",
            "port",
            "database",
            "username",
            "ssl_mode",
            "password",
            "dsn",
            "password_set",
            "dsn_set",
            "bookkeeping",
            "create_time",
            "update_time",
        )
        read_only_fields = ("create_time", "update_time")


class RetlSourceCreateSerializer(serializers.Serializer):
    name = PatternCharField(
        pattern=SOURCE_NAME,
        help_text="workspaces/{workspace}/reverse-etl/sources/{slug}, inside the path's workspace",
    )
    display_name = serializers.CharField(max_length=100)
    warehouse = serializers.ChoiceField(
        choices=[w.slug for w in catalog.WAREHOUSES],
        default="postgres",
        help_text="only implemented warehouses can be created (postgres)",
    )
    host = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    port = serializers.IntegerField(required=False, default=5432, min_value=1, max_value=65535)
    database = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    username = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    password = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, write_only=True
    )
    dsn = serializers.CharField(required=False, allow_blank=True, default="", write_only=True)
    ssl_mode = serializers.ChoiceField(
        choices=RetlSource.SslMode.values, default=RetlSource.SslMode.PREFER
    )

    def validate_name(self, value: str) -> str:
        return names.validate_slug(
            parse_name(value, "sources", self.context["workspace"].slug), field="name"
        )


class ConnectionCheckSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="connect, read or bookkeeping")
    status = serializers.ChoiceField(choices=["PASSED", "FAILED"])
    detail = serializers.CharField(help_text="what was found, or why it failed and the fix")


class ConnectionReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="connected and can read: syncs can run")
    bookkeeping = serializers.ChoiceField(
        choices=["WAREHOUSE", "SWITCHYARD"],
        help_text="where snapshots live: the warehouse's __switchyard_retl schema, or "
        "Switchyard's database when the user cannot create it",
    )
    checks = ConnectionCheckSerializer(many=True)


class RetlModelSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/reverse-etl/models/{model}",
    )
    id = serializers.CharField(source="key_id", read_only=True, help_text="rmod_...")
    source = serializers.CharField(  # type: ignore[assignment]
        source="source.resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/reverse-etl/sources/{source}",
    )
    display_name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    query = serializers.CharField(max_length=QUERY_MAX, trim_whitespace=False)
    identifier_column = serializers.CharField(max_length=IDENTIFIER_MAX)
    enabled = serializers.BooleanField(required=False)

    class Meta:
        model = RetlModel
        fields = (
            "name",
            "id",
            "source",
            "display_name",
            "description",
            "query",
            "identifier_column",
            "enabled",
            "create_time",
            "update_time",
        )
        read_only_fields = ("create_time", "update_time")


class RetlModelCreateSerializer(serializers.Serializer):
    name = PatternCharField(
        pattern=MODEL_NAME,
        help_text="workspaces/{workspace}/reverse-etl/models/{slug}, inside the path's workspace",
    )
    source = PatternCharField(  # type: ignore[assignment]
        pattern=SOURCE_NAME, help_text="the Reverse ETL source whose warehouse runs the query"
    )
    display_name = serializers.CharField(max_length=100)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000
    )
    query = serializers.CharField(max_length=QUERY_MAX, trim_whitespace=False)
    identifier_column = serializers.CharField(max_length=IDENTIFIER_MAX)
    enabled = serializers.BooleanField(default=True)

    def validate_name(self, value: str) -> str:
        return names.validate_slug(
            parse_name(value, "models", self.context["workspace"].slug), field="name"
        )

    def validate_source(self, value: str) -> str:
        return parse_name(value, "sources", self.context["workspace"].slug, field="source")


class RetlPreviewRequestSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False,
        default=model_service.PREVIEW_ROWS,
        min_value=1,
        max_value=model_service.PREVIEW_ROWS_MAX,
    )
    query = serializers.CharField(
        required=False,
        max_length=QUERY_MAX,
        trim_whitespace=False,
        help_text="an edited query to preview instead of the saved one (needs edit rights)",
    )
    identifier_column = serializers.CharField(required=False, max_length=IDENTIFIER_MAX)


class RetlPreviewSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField())
    identifier_unique = serializers.BooleanField(
        help_text="no identifier repeats among the preview rows"
    )
    identifier_nulls = serializers.IntegerField(help_text="preview rows with a null identifier")
    limited = serializers.BooleanField(help_text="the query returns more rows than shown")


def report_data(report: Any) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "bookkeeping": report.bookkeeping,
        "checks": [
            {"name": c.name, "status": "PASSED" if c.passed else "FAILED", "detail": c.detail}
            for c in report.checks
        ],
    }
