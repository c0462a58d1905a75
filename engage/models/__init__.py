from engage.models.computation_destinations import ComputationDestination, SyncState
from engage.models.computation_exports import ComputationExport, ExportFormat, ExportStatus
from engage.models.computation_folders import ComputationFolder
from engage.models.computations import (
    Computation,
    ComputationChange,
    ComputationKey,
    ComputationKind,
    ComputationMember,
    ComputationMode,
    ComputationResult,
    ComputationRun,
    ComputationStatus,
    RunStatus,
    RunStep,
    RunTrigger,
)
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
    "Computation",
    "ComputationChange",
    "ComputationDestination",
    "ComputationExport",
    "ComputationFolder",
    "ComputationKey",
    "ComputationKind",
    "ComputationMember",
    "ComputationMode",
    "ComputationResult",
    "ComputationRun",
    "ComputationStatus",
    "CsvUpload",
    "ExportFormat",
    "ExportStatus",
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
    "RunStatus",
    "RunStep",
    "RunTrigger",
    "Space",
    "SpaceGrant",
    "SpaceLabel",
    "SpaceSource",
    "SpaceToken",
    "SyncState",
    "UploadStatus",
]
