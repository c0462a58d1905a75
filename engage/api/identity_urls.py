"""Routes of a space's identity resolution settings, included by engage/api/urls.py."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from engage.api.identity_views import IdentifierViewSet

IDENTIFIERS = r"workspaces/(?P<workspace>[^/]+)/spaces/(?P<space>[a-z0-9-]+)/identifiers"

router = SimpleRouter(trailing_slash=False)
router.register(IDENTIFIERS, IdentifierViewSet, basename="space-identifier")

# Config API custom method on the collection: POST .../identifiers:import
import_identifiers = IdentifierViewSet.as_view(
    {"post": "import_settings"}, http_method_names=["post", "options"]
)
urlpatterns = [
    *router.urls,
    re_path(rf"^{IDENTIFIERS}:import$", import_identifiers, name="space-identifiers-import"),
]
