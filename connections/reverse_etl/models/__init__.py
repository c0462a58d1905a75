from connections.reverse_etl.models.alerts import RetlAlert, RetlAlertSettings, RetlMappingAlert
from connections.reverse_etl.models.consent import RetlConsentCategory, RetlModelConsent
from connections.reverse_etl.models.queries import RetlModel
from connections.reverse_etl.models.schedules import RetlSchedule
from connections.reverse_etl.models.sources import RetlSource
from connections.reverse_etl.models.syncs import (
    RetlMapping,
    RetlRecordRetry,
    RetlSync,
    RetlSyncRecord,
)

__all__ = [
    "RetlAlert",
    "RetlAlertSettings",
    "RetlConsentCategory",
    "RetlMapping",
    "RetlMappingAlert",
    "RetlModel",
    "RetlModelConsent",
    "RetlRecordRetry",
    "RetlSchedule",
    "RetlSource",
    "RetlSync",
    "RetlSyncRecord",
]
