"""Names of the engage app's Celery tasks (stored in queued messages: never rename)."""

from __future__ import annotations

from typing import Final

DELETE_SPACE: Final = "engage.delete_space"
SWEEP_SPACE_DELETIONS: Final = "engage.sweep_space_deletions"
DRAIN_FEED: Final = "engage.drain_feed"
REPLAY_SOURCE: Final = "engage.replay_source"
PROCESS_CSV_UPLOAD: Final = "engage.process_csv_upload"
SWEEP_FEED: Final = "engage.sweep_feed"
PRUNE_INSIGHTS: Final = "engage.prune_insights"
COMPUTE_COMPUTATION: Final = "engage.compute_computation"
SCHEDULE_COMPUTATIONS: Final = "engage.schedule_computations"
EXPORT_COMPUTATION: Final = "engage.export_computation"
SYNC_COMPUTATION_DESTINATION: Final = "engage.sync_computation_destination"
CHECK_WINDOWS: Final = "engage.check_windows"
