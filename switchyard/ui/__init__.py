"""The UI kit: what every server-rendered page needs, the same way in every app.

``workspace_view`` / ``signed_in_view`` resolve who asks and what about (through
the authorization module, as the API kit does); ``add_service_error`` shows a
service's error on a form; ``error_pages`` are the 403 and 404 pages.
"""

from switchyard.ui.forms import add_service_error
from switchyard.ui.views import (
    Lookup,
    UIRequest,
    get_object,
    refuse,
    signed_in_view,
    workspace_view,
)

__all__ = [
    "Lookup",
    "UIRequest",
    "add_service_error",
    "get_object",
    "refuse",
    "signed_in_view",
    "workspace_view",
]
