from django.urls import re_path
from rest_framework.routers import SimpleRouter

from engage.api import identity_urls
from engage.api.computation_destination_views import (
    AudienceDestinationViewSet,
    TraitDestinationViewSet,
)
from engage.api.computation_views import (
    AudienceMemberViewSet,
    AudienceRunViewSet,
    AudienceViewSet,
    TraitMemberViewSet,
    TraitRunViewSet,
    TraitViewSet,
)
from engage.api.space_views import SpaceSourceViewSet, SpaceTokenViewSet, SpaceViewSet

router = SimpleRouter(trailing_slash=False)
SPACES = r"workspaces/(?P<workspace>[^/]+)/spaces"
SPACE = SPACES + r"/(?P<space>[a-z0-9-]+)"
router.register(SPACES, SpaceViewSet, basename="space")
router.register(SPACE + "/sources", SpaceSourceViewSet, basename="space-source")
router.register(SPACE + "/access-tokens", SpaceTokenViewSet, basename="space-access-token")
AUDIENCE = SPACE + r"/audiences/(?P<audience>[a-z0-9_]+)"
TRAIT = SPACE + r"/computed-traits/(?P<computed_trait>[a-z0-9_]+)"
router.register(SPACE + "/audiences", AudienceViewSet, basename="audience")
router.register(AUDIENCE + "/runs", AudienceRunViewSet, basename="audience-run")
router.register(AUDIENCE + "/members", AudienceMemberViewSet, basename="audience-member")
router.register(SPACE + "/computed-traits", TraitViewSet, basename="computed-trait")
router.register(TRAIT + "/runs", TraitRunViewSet, basename="computed-trait-run")
router.register(TRAIT + "/members", TraitMemberViewSet, basename="computed-trait-member")
router.register(
    AUDIENCE + "/destinations", AudienceDestinationViewSet, basename="audience-destination"
)
router.register(
    TRAIT + "/destinations", TraitDestinationViewSet, basename="computed-trait-destination"
)

# Config API custom method: POST .../spaces/{space}:cancelDeletion
cancel_deletion = SpaceViewSet.as_view({"post": "cancel_deletion"})
urlpatterns = [
    *router.urls,
    *identity_urls.urlpatterns,
    re_path(rf"^{SPACE}:cancelDeletion$", cancel_deletion, name="space-cancel-deletion"),
    # Custom methods: POST .../audiences/{audience}:compute, POST .../audiences:preview.
    re_path(
        rf"^{AUDIENCE}:compute$",
        AudienceViewSet.as_view({"post": "compute"}),
        name="audience-compute",
    ),
    re_path(
        rf"^{SPACE}/audiences:preview$",
        AudienceViewSet.as_view({"post": "preview"}),
        name="audience-preview",
    ),
    re_path(
        rf"^{TRAIT}:compute$",
        TraitViewSet.as_view({"post": "compute"}),
        name="computed-trait-compute",
    ),
    re_path(
        rf"^{SPACE}/computed-traits:preview$",
        TraitViewSet.as_view({"post": "preview"}),
        name="computed-trait-preview",
    ),
]
