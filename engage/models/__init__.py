from engage.models.identity import IdentifierSetting, Period
from engage.models.profiles import (
    IdentityLog,
    InsightKind,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileLink,
    ProfileMerge,
)
from engage.models.spaces import Space, SpaceGrant, SpaceLabel, SpaceSource, SpaceToken

__all__ = [
    "IdentifierSetting",
    "IdentityLog",
    "InsightKind",
    "Period",
    "Profile",
    "ProfileEvent",
    "ProfileIdentifier",
    "ProfileLink",
    "ProfileMerge",
    "Space",
    "SpaceGrant",
    "SpaceLabel",
    "SpaceSource",
    "SpaceToken",
]
