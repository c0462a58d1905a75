"""Standard privacy controls: what a source blocks at the Tracking API."""

from __future__ import annotations

from django.db import models

from connections.models import Source


class SourceControls(models.Model):
    """Block the Inventory's Red and/or Yellow fields of a source's events before
    they are stored (only the fields go; the rest of the event flows, as the docs
    say). No row = nothing blocked."""

    source = models.OneToOneField(
        Source, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    block_red = models.BooleanField(default=False)
    block_yellow = models.BooleanField(default=False)
    update_time = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"controls of source {self.source_id}"
