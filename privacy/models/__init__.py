from privacy.models.controls import SourceControls
from privacy.models.fields import InventoryField, ObservedField
from privacy.models.matchers import PiiMatcher
from privacy.models.regulations import (
    Regulation,
    RegulationStatus,
    RegulationType,
    SubjectType,
    SuppressedUser,
)

__all__ = [
    "InventoryField",
    "ObservedField",
    "PiiMatcher",
    "Regulation",
    "RegulationStatus",
    "RegulationType",
    "SourceControls",
    "SubjectType",
    "SuppressedUser",
]
