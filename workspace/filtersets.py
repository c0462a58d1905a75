"""Filters shared by the UI pages and the API's query parameters."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from workspace.models import AuditEntry


class AuditEntryFilterSet(django_filters.FilterSet):
    # Labels are explicit: django-filter cannot derive one for a method filter
    # (it showed "[invalid name]").
    action = django_filters.CharFilter(
        field_name="action", label="Action", help_text="e.g. workspace.updated"
    )
    resource_type = django_filters.CharFilter(
        field_name="resource_type", label="Resource type", help_text="e.g. workspace"
    )
    actor = django_filters.CharFilter(
        method="filter_actor", label="Actor", help_text="a username, or an access token's prefix"
    )
    start_time = django_filters.DateTimeFilter(
        field_name="time",
        lookup_expr="gte",
        label="From",
        help_text="RFC 3339; entries at or after",
    )
    end_time = django_filters.DateTimeFilter(
        field_name="time", lookup_expr="lt", label="Before", help_text="RFC 3339; entries before"
    )

    class Meta:
        model = AuditEntry
        fields = ("action", "resource_type", "actor", "start_time", "end_time")

    def filter_actor(
        self, queryset: QuerySet[AuditEntry], name: str, value: str
    ) -> QuerySet[AuditEntry]:
        return queryset.filter(Q(actor_user__username=value) | Q(actor_token__prefix=value))
