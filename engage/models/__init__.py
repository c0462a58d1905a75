from engage.models.identity import IdentifierSetting, Period
from engage.models.pipeline import PendingBatch
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
from engage.models.uploads import CsvUpload, UploadStatus

__all__ = [
    "CsvUpload",
    "IdentifierSetting",
    "IdentityLog",
    "InsightKind",
    "PendingBatch",
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
    "UploadStatus",
]
