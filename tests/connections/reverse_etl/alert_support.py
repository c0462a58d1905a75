"""A mapping for the alert and consent tests: ``sync_support.make_synced`` over an
empty table with consent columns (``ads``, ``analytics``), plus finished runs' rows
made directly (what the rate alert reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from connections.reverse_etl.models import RetlSync
from switchyard import names
from tests.connections.delivery_support import Server
from tests.connections.reverse_etl.sync_support import Synced, make_synced
from tests.connections.reverse_etl.warehouse_support import WarehouseDb
from workspace.models import Workspace

CONSENTING_COLUMNS = {"plan": "text", "ads": "boolean", "analytics": "boolean"}


@dataclass
class Mapped(Synced):
    def warehouse_drop(self) -> None:
        self.warehouse.run(f"DROP TABLE {self.table}")

    def run(self, *, finished: datetime, successful: int = 0, failed: int = 0) -> RetlSync:
        """A finished run's row with its load counts (what the rate alert reads)."""
        return RetlSync.objects.create(
            key_id=names.generate_id("rsyn"),
            mapping=self.mapping,
            status="PARTIALLY_SUCCEEDED" if failed else "SUCCEEDED",
            successful=successful,
            failed=failed,
            finish_time=finished,
        )


def make_mapped(
    owner: User, workspace: Workspace, warehouse: WarehouseDb, server: Server
) -> Mapped:
    synced = make_synced(owner, workspace, warehouse, server, columns=CONSENTING_COLUMNS, rows="")
    return Mapped(**vars(synced))


def hours_ago(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)
