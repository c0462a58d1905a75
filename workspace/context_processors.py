from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from switchyard.access import Principal
from workspace.selectors import visible_workspaces

SWITCHER_LIMIT = 50


def workspaces(request: HttpRequest) -> dict[str, Any]:
    """The workspace switcher's entries, evaluated only if a template shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def entries() -> list[Any]:
        qs = visible_workspaces(Principal(user)).order_by("display_name", "slug")
        return list(qs[:SWITCHER_LIMIT])

    return {"switcher_workspaces": entries}
