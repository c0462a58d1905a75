from rest_framework.routers import SimpleRouter

from connections.api.catalog_views import DestinationDefinitionViewSet, SourceTypeViewSet
from connections.api.views import (
    DestinationViewSet,
    FilterViewSet,
    SourceViewSet,
    SubscriptionViewSet,
    WriteKeyViewSet,
)

router = SimpleRouter(trailing_slash=False)
SOURCE = r"workspaces/(?P<workspace>[^/]+)/sources/(?P<source>[^/]+)"
DESTINATION = SOURCE + r"/destinations/(?P<destination>[a-z0-9_]+)"
router.register(r"workspaces/(?P<workspace>[^/]+)/sources", SourceViewSet, basename="source")
router.register(SOURCE + "/write-keys", WriteKeyViewSet, basename="write-key")
router.register(SOURCE + "/destinations", DestinationViewSet, basename="destination")
router.register(DESTINATION + "/subscriptions", SubscriptionViewSet, basename="subscription")
router.register(DESTINATION + "/filters", FilterViewSet, basename="filter")
router.register("catalog/sources", SourceTypeViewSet, basename="catalog-source")
router.register(
    "catalog/destinations", DestinationDefinitionViewSet, basename="catalog-destination"
)

urlpatterns = router.urls
