"""Fixed vocabularies of the Reverse ETL app that are not a model field's own."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """``<resource type>.<verb>``; stored and exported as they are: never rename one."""

    RETL_SOURCE_CREATED = "reverse_etl_source.created"
    RETL_SOURCE_UPDATED = "reverse_etl_source.updated"
    RETL_SOURCE_DELETED = "reverse_etl_source.deleted"
    RETL_MODEL_CREATED = "reverse_etl_model.created"
    RETL_MODEL_UPDATED = "reverse_etl_model.updated"
    RETL_MODEL_DELETED = "reverse_etl_model.deleted"
    RETL_MODEL_RESET = "reverse_etl_model.reset"
    RETL_MAPPING_CREATED = "reverse_etl_mapping.created"
    RETL_MAPPING_UPDATED = "reverse_etl_mapping.updated"
    RETL_MAPPING_DELETED = "reverse_etl_mapping.deleted"
    RETL_MAPPING_RESET = "reverse_etl_mapping.reset"
    RETL_SYNC_STARTED = "reverse_etl_sync.started"
    RETL_SYNC_CANCELED = "reverse_etl_sync.canceled"
    RETL_SCHEDULE_UPDATED = "reverse_etl_schedule.updated"
