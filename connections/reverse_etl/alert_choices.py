"""Audit actions of Reverse ETL alerts and consent (``<resource type>.<verb>``;
stored and exported as they are: never rename one). Kept apart from
``choices.AuditAction`` only so parallel work on the app did not edit one file."""

from __future__ import annotations

from enum import StrEnum


class AlertAuditAction(StrEnum):
    RETL_ALERT_SETTINGS_UPDATED = "reverse_etl_alert_settings.updated"
    RETL_MAPPING_ALERT_UPDATED = "reverse_etl_mapping_alert.updated"
    RETL_CONSENT_CATEGORIES_UPDATED = "reverse_etl_consent_categories.updated"
    RETL_MODEL_CONSENT_UPDATED = "reverse_etl_model_consent.updated"
