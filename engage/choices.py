"""Fixed vocabularies of the engage app that are not a model field's own."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """``<resource type>.<verb>``; stored and exported as they are: never rename one."""

    SPACE_CREATED = "space.created"
    SPACE_UPDATED = "space.updated"
    SPACE_DELETION_REQUESTED = "space.deletion_requested"
    SPACE_DELETION_CANCELLED = "space.deletion_cancelled"
    SPACE_DELETED = "space.deleted"
    SPACE_SOURCE_CONNECTED = "space_source.connected"
    SPACE_SOURCE_DISCONNECTED = "space_source.disconnected"
    SPACE_TOKEN_CREATED = "space_token.created"  # noqa: S105
    SPACE_TOKEN_REVOKED = "space_token.revoked"  # noqa: S105
    IDENTIFIER_CREATED = "identifier.created"
    IDENTIFIER_UPDATED = "identifier.updated"
    IDENTIFIER_DELETED = "identifier.deleted"
    IDENTIFIERS_REORDERED = "identifiers.reordered"
    IDENTIFIERS_IMPORTED = "identifiers.imported"
    PROFILES_CSV_UPLOADED = "profiles_csv.uploaded"
    AUDIENCE_CREATED = "audience.created"
    AUDIENCE_UPDATED = "audience.updated"
    AUDIENCE_DELETED = "audience.deleted"
    AUDIENCE_COMPUTE_FAILED = "audience.compute_failed"
    COMPUTED_TRAIT_CREATED = "computed_trait.created"
    COMPUTED_TRAIT_UPDATED = "computed_trait.updated"
    COMPUTED_TRAIT_DELETED = "computed_trait.deleted"
    COMPUTED_TRAIT_COMPUTE_FAILED = "computed_trait.compute_failed"
    AUDIENCE_DESTINATION_CONNECTED = "audience_destination.connected"
    AUDIENCE_DESTINATION_UPDATED = "audience_destination.updated"
    AUDIENCE_DESTINATION_DISCONNECTED = "audience_destination.disconnected"
    AUDIENCE_SYNC_FAILED = "audience.sync_failed"
    COMPUTED_TRAIT_DESTINATION_CONNECTED = "computed_trait_destination.connected"
    COMPUTED_TRAIT_DESTINATION_UPDATED = "computed_trait_destination.updated"
    COMPUTED_TRAIT_DESTINATION_DISCONNECTED = "computed_trait_destination.disconnected"
    COMPUTED_TRAIT_SYNC_FAILED = "computed_trait.sync_failed"
    COMPUTATION_FOLDER_CREATED = "computation_folder.created"
    COMPUTATION_FOLDER_UPDATED = "computation_folder.updated"
    COMPUTATION_FOLDER_DISBANDED = "computation_folder.disbanded"
    COMPUTATION_EXPORT_REQUESTED = "computation_export.requested"
