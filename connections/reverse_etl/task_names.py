"""The Reverse ETL app's task names (stored in queued messages: never change them)."""

from __future__ import annotations

from typing import Final

RUN_SYNC: Final = "connections.reverse_etl.run_sync"
