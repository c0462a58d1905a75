from connections.reverse_etl.models.queries import RetlModel
from connections.reverse_etl.models.sources import RetlSource
from connections.reverse_etl.models.syncs import (
    RetlMapping,
    RetlRecordRetry,
    RetlSync,
    RetlSyncRecord,
)

__all__ = [
    "RetlMapping",
    "RetlModel",
    "RetlRecordRetry",
    "RetlSource",
    "RetlSync",
    "RetlSyncRecord",
]
