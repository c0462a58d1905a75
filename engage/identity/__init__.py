"""Identity resolution without Django: the default identifier types and where
messages carry them, extraction, blocked values and the matching decision."""

from engage.identity.decide import (
    MAPPINGS_MAX,
    MERGES_MAX,
    MESSAGES,
    Action,
    Code,
    Decision,
    ProfileView,
    Violation,
    decide,
)
from engage.identity.extract import (
    ACCOUNTS,
    USERS,
    Examined,
    Identifier,
    dropped,
    examine,
    extract,
    rejected,
)
from engage.identity.rules import Rule, Settings

__all__ = [
    "ACCOUNTS",
    "MAPPINGS_MAX",
    "MERGES_MAX",
    "MESSAGES",
    "USERS",
    "Action",
    "Code",
    "Decision",
    "Examined",
    "Identifier",
    "ProfileView",
    "Rule",
    "Settings",
    "Violation",
    "decide",
    "dropped",
    "examine",
    "extract",
    "rejected",
]
