"""How the privacy app's models are reached; registered from ``PrivacyConfig.ready``.

"Only workspace owners can access the Privacy Portal" (the docs; PII Access
unmasks values but does not open the portal), so every action on a matcher,
reading included, is owner business.
"""

from __future__ import annotations

from privacy.models import PiiMatcher
from switchyard.access import registry, rules


def register() -> None:
    registry.register(PiiMatcher, rules.owners_only())
