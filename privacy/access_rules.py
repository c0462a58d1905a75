"""How the privacy app's models are reached; registered from ``PrivacyConfig.ready``.

"Only workspace owners can access the Privacy Portal" (the docs; PII Access
unmasks values but does not open the portal), so every action on every privacy
model, reading included, is owner business.
"""

from __future__ import annotations

from privacy.models import (
    InventoryField,
    ObservedField,
    PiiMatcher,
    Regulation,
    SourceControls,
    SuppressedUser,
)
from switchyard.access import registry, rules


def register() -> None:
    for model in (PiiMatcher, ObservedField, InventoryField, Regulation, SuppressedUser):
        registry.register(model, rules.owners_only())
    registry.register(SourceControls, rules.owners_only("source__workspace_id"))
