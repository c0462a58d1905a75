"""The workspace a URL names, for the UI and API kits.

The kernel imports no app: the workspaces come from the tenancy the workspace app
registers with the authorization module (``access.registry.register_tenancy``).
Both kits find the workspace of a ``workspaces/<slug>/...`` path here, so both
answer the same 404.
"""

from __future__ import annotations

from typing import Any

from switchyard import access
from switchyard.access import Principal, registry
from switchyard.errors import NotFound


def visible_workspace(principal: Principal, slug: str) -> Any:
    """The workspace ``slug`` if the principal may see it; NotFound otherwise, whether
    it exists or not (a stranger learns nothing)."""
    workspaces = registry.tenancy().workspaces().filter(slug=slug)
    found = access.restrict(workspaces, principal, "view").first()
    if found is None:
        raise NotFound(f"workspace {slug!r} not found")
    return found
