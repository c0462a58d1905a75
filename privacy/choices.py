"""Fixed vocabularies of the privacy app that are not a model field's own."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """``<resource type>.<verb>``; stored and exported as they are: never rename one."""

    PII_MATCHER_CREATED = "pii_matcher.created"
    PII_MATCHER_UPDATED = "pii_matcher.updated"
    PII_MATCHER_DELETED = "pii_matcher.deleted"
    REGULATION_CREATED = "regulation.created"
    INVENTORY_FIELD_ADDED = "inventory_field.added"
    INVENTORY_FIELD_UPDATED = "inventory_field.updated"
    INVENTORY_FIELD_REMOVED = "inventory_field.removed"
    PRIVACY_CONTROLS_UPDATED = "privacy_controls.updated"
