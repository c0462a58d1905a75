"""The objects connections pages are about, found from their URLs by the UI kit."""

from __future__ import annotations

from django.db import models

from connections.models import Destination, Source
from switchyard.ui import Lookup
from workspace.models import Workspace


def _source_in(workspace: Workspace, source: str) -> models.QuerySet[Source]:
    return (
        Source.objects.filter(workspace=workspace, slug=source)
        .select_related("workspace")
        .prefetch_related("labels")
    )


def _destination_in(
    workspace: Workspace, source: str, destination: str
) -> models.QuerySet[Destination]:
    return Destination.objects.filter(
        source__workspace=workspace, source__slug=source, key_id=destination
    ).select_related("source", "source__workspace")


# workspaces/<slug>/sources/<source>/...
SOURCE = Lookup(arg="source", url_kwargs=("source",), find=_source_in)

# workspaces/<slug>/sources/<source>/destinations/<destination>/...
DESTINATION = Lookup(
    arg="destination",
    url_kwargs=("source", "destination"),
    find=_destination_in,
    refusal="You have read-only access to this destination.",
)
