"""Cloning an audience or computed trait (engage.md §5.7) into the same space or
another space the principal may build in, under a new name and key. The clone is a
new computation (its own never-reused key, its first run queued) created by
``do_create_computation``, so the target space's rules apply: references to
audiences or traits the target space lacks are refused with the builder's error."""

from __future__ import annotations

from django.db.models import QuerySet

from engage.models import Computation, Space
from engage.services import computations
from switchyard import access
from switchyard.access import Principal
from switchyard.errors import NotFound


def clone_targets(principal: Principal, computation: Computation) -> QuerySet[Space]:
    """The spaces of the computation's workspace the principal may build in."""
    spaces = Space.objects.filter(workspace_id=computation.space.workspace_id)
    return access.restrict(spaces, principal, computations.WRITE_ACTION).order_by(
        "display_name", "pk"
    )


def do_clone_computation(
    *,
    principal: Principal,
    computation: Computation,
    space: Space,
    display_name: object,
    key: object = None,
) -> Computation:
    """A copy of ``computation``'s definition, description and folder in ``space``
    (the same workspace), named ``display_name``; the folder is kept only within the
    same space. Disabled originals are cloned enabled: a clone is a new start."""
    access.require(principal, "view", computation)
    if space.workspace_id != computation.space.workspace_id:
        raise NotFound("space not found")
    same_space = space.pk == computation.space_id
    return computations.do_create_computation(
        principal=principal,
        space=space,
        kind=computation.kind,
        display_name=display_name,
        definition=computation.definition,
        key=key,
        description=computation.description,
        folder=computation.folder if same_space else "",
    )
