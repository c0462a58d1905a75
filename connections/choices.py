"""Fixed vocabularies of the connections app that are not a model field's own."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """What an audit entry records, ``<resource type>.<verb>``. The values are stored,
    filtered on and exported (API, CSV) as they are: never rename one."""

    SOURCE_CREATED = "source.created"
    SOURCE_UPDATED = "source.updated"
    SOURCE_DELETED = "source.deleted"
    WRITE_KEY_CREATED = "write_key.created"
    WRITE_KEY_REVOKED = "write_key.revoked"
    DESTINATION_CREATED = "destination.created"
    DESTINATION_UPDATED = "destination.updated"
    DESTINATION_DELETED = "destination.deleted"
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_UPDATED = "subscription.updated"
    SUBSCRIPTION_DELETED = "subscription.deleted"
    DESTINATION_FILTER_CREATED = "destination_filter.created"
    DESTINATION_FILTER_UPDATED = "destination_filter.updated"
    DESTINATION_FILTER_DELETED = "destination_filter.deleted"
