"""How the engage app's models are reached; registered from ``EngageConfig.ready``.

Spaces are what the space roles scope (Unify and Engage Admin / Read-only,
Unify Read-only Engage User: all spaces, listed ones, or those with labels).
Everything in a space belongs to it: whoever may act on the space may act on
its settings, profiles and logs.
"""

from __future__ import annotations

from engage.models import (
    IdentifierSetting,
    IdentityLog,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileLink,
    ProfileMerge,
    Space,
    SpaceGrant,
    SpaceLabel,
    SpaceSource,
    SpaceToken,
)
from switchyard.access import registry, rules
from switchyard.access.registry import ResourceType

SPACES = ResourceType(
    name="space",
    model=Space,
    collection="spaces",
    grant_model=SpaceGrant,
    grant_field="space",
    label_model=SpaceLabel,
    label_field="space",
)


def register() -> None:
    registry.register_resource_type(SPACES, rules.granted(SPACES))
    for model in (
        SpaceSource,
        SpaceToken,
        IdentifierSetting,
        Profile,
        ProfileIdentifier,
        ProfileEvent,
        ProfileMerge,
        ProfileLink,
        IdentityLog,
    ):
        registry.register(model, rules.belongs_to("space", Space))
