from django.urls import re_path
from rest_framework.routers import SimpleRouter

from engage.api import identity_urls
from engage.api.space_views import SpaceSourceViewSet, SpaceTokenViewSet, SpaceViewSet

router = SimpleRouter(trailing_slash=False)
SPACES = r"workspaces/(?P<workspace>[^/]+)/spaces"
SPACE = SPACES + r"/(?P<space>[a-z0-9-]+)"
router.register(SPACES, SpaceViewSet, basename="space")
router.register(SPACE + "/sources", SpaceSourceViewSet, basename="space-source")
router.register(SPACE + "/access-tokens", SpaceTokenViewSet, basename="space-access-token")

# Config API custom method: POST .../spaces/{space}:cancelDeletion
cancel_deletion = SpaceViewSet.as_view({"post": "cancel_deletion"})
urlpatterns = [
    *router.urls,
    *identity_urls.urlpatterns,
    re_path(rf"^{SPACE}:cancelDeletion$", cancel_deletion, name="space-cancel-deletion"),
]
