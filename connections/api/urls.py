from django.urls import re_path
from rest_framework.routers import SimpleRouter

from connections.api.catalog_views import DestinationDefinitionViewSet, SourceTypeViewSet
from connections.api.event_views import EventViewSet
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
router.register(SOURCE + "/events", EventViewSet, basename="event")
router.register(SOURCE + "/destinations", DestinationViewSet, basename="destination")
router.register(DESTINATION + "/subscriptions", SubscriptionViewSet, basename="subscription")
router.register(DESTINATION + "/filters", FilterViewSet, basename="filter")
router.register("catalog/sources", SourceTypeViewSet, basename="catalog-source")
router.register(
    "catalog/destinations", DestinationDefinitionViewSet, basename="catalog-destination"
)

# Config API custom method: POST .../destinations/{destination}:test
send_test = DestinationViewSet.as_view({"post": "send_test"})
urlpatterns = [
    *router.urls,
    re_path(rf"^{DESTINATION}:test$", send_test, name="destination-test"),
]
