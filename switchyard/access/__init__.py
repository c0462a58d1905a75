"""The one authorization module: who may do what, answered in SQL.

Apps register how their models are reached (``register``) in their own
``access_rules.py``; callers ask ``can``, ``restrict`` and ``require``.
"""

from switchyard.access.core import (
    WRITE_ACTIONS,
    Action,
    Principal,
    can,
    can_create,
    require,
    restrict,
)

__all__ = [
    "WRITE_ACTIONS",
    "Action",
    "Principal",
    "can",
    "can_create",
    "require",
    "restrict",
]
