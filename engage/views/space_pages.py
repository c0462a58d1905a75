"""What the explorer's pages share: the space a URL names, seen through the space roles."""

from __future__ import annotations

from django.db.models import QuerySet

from engage.models import Space
from switchyard.ui import Lookup
from workspace.models import Workspace


def _space(workspace: Workspace, space: str) -> QuerySet[Space]:
    # A space pending deletion is still shown (its data is there until the grace
    # period ends); writes to it are refused by the services.
    return Space.objects.filter(workspace=workspace, slug=space).select_related("workspace")


SPACE = Lookup(arg="space", url_kwargs=("space",), find=_space)
