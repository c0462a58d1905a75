"""The Reverse ETL app's task names (stored in queued messages: never change them)."""

from __future__ import annotations

from typing import Final

RUN_SYNC: Final = "connections.reverse_etl.run_sync"
SEND_ALERT: Final = "connections.reverse_etl.send_alert"
CHECK_DELIVERY_RATES: Final = "connections.reverse_etl.check_delivery_rates"
SCHEDULED_SYNC: Final = "connections.reverse_etl.scheduled_sync"
RESUME_STALE_SYNCS: Final = "connections.reverse_etl.resume_stale_syncs"
