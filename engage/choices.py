"""Fixed vocabularies of the engage app that are not a model field's own."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """``<resource type>.<verb>``; stored and exported as they are: never rename one."""

    IDENTIFIER_CREATED = "identifier.created"
    IDENTIFIER_UPDATED = "identifier.updated"
    IDENTIFIER_DELETED = "identifier.deleted"
    IDENTIFIERS_REORDERED = "identifiers.reordered"
    IDENTIFIERS_IMPORTED = "identifiers.imported"
    PROFILES_CSV_UPLOADED = "profiles_csv.uploaded"
