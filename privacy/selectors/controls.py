"""Reads for Privacy > Controls and the privacy-controls API."""

from __future__ import annotations

from dataclasses import dataclass

from connections import selectors as connections_selectors
from connections.models import Source
from privacy import gate
from privacy.models import SourceControls
from workspace.models import Workspace


def source_controls(source: Source) -> SourceControls:
    """The source's controls; an unsaved all-off row when it has none (nothing blocked)."""
    found = SourceControls.objects.filter(source=source).first()
    if found is None:
        return SourceControls(source=source)
    found.source = source
    return found


@dataclass(frozen=True)
class ControlsRow:
    """One source on the controls page: its toggles and what the gate did in 24 h."""

    source: Source
    controls: SourceControls
    counts: dict[tuple[str, str], int]

    def _count(self, outcome: str, reason: str) -> int:
        return self.counts.get((outcome, reason), 0)

    @property
    def red_blocked(self) -> int:
        return self._count(gate.BLOCKED, gate.RED_FIELD)

    @property
    def yellow_blocked(self) -> int:
        return self._count(gate.BLOCKED, gate.YELLOW_FIELD)

    @property
    def suppressed_dropped(self) -> int:
        return self._count(gate.DROPPED, gate.USER_SUPPRESSED)


def controls_rows(workspace: Workspace, *, source: Source | None = None) -> list[ControlsRow]:
    """Every source of the workspace (owners see them all; or just ``source``), by
    name, with its controls and the last 24 hours' blocked fields and suppressed events."""
    rows = Source.objects.filter(workspace=workspace).select_related("workspace")
    if source is not None:
        rows = rows.filter(pk=source.pk)
    sources = list(rows.order_by("display_name", "pk"))
    controls = {c.source_id: c for c in SourceControls.objects.filter(source__in=sources)}
    counts = connections_selectors.ingest_outcomes(
        [s.pk for s in sources], (gate.BLOCKED, gate.DROPPED), "24h"
    )
    return [
        ControlsRow(s, controls.get(s.pk) or SourceControls(source=s), counts.get(s.pk, {}))
        for s in sources
    ]
