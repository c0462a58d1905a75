from django.urls import re_path
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings

from privacy.api.control_views import controls
from privacy.api.field_views import CSVRenderer, InboxViewSet, InventoryViewSet
from privacy.api.regulation_views import RegulationViewSet, SuppressedUserViewSet
from privacy.api.views import PiiMatcherViewSet

router = SimpleRouter(trailing_slash=False)
MATCHERS = r"workspaces/(?P<workspace>[^/]+)/pii-matchers"
router.register(MATCHERS, PiiMatcherViewSet, basename="pii-matcher")
INVENTORY = r"workspaces/(?P<workspace>[^/]+)/privacy/inventory"
router.register(INVENTORY, InventoryViewSet, basename="privacy-inventory")
WORKSPACE = r"workspaces/(?P<workspace>[^/]+)"
router.register(f"{WORKSPACE}/regulations", RegulationViewSet, basename="regulation")
router.register(f"{WORKSPACE}/suppressed-users", SuppressedUserViewSet, basename="suppressed-user")

# Config API custom method on the collection: POST .../pii-matchers:test
run_test = PiiMatcherViewSet.as_view({"post": "run_test"}, http_method_names=["post", "options"])
# The Inbox is a List only; GET .../privacy/inventory:export answers CSV.
inbox = InboxViewSet.as_view({"get": "list"})
export = InventoryViewSet.as_view(
    {"get": "export"}, renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
)
urlpatterns = [
    *router.urls,
    re_path(rf"^{MATCHERS}:test$", run_test, name="pii-matcher-test"),
    re_path(r"^workspaces/(?P<workspace>[^/]+)/privacy/inbox$", inbox, name="privacy-inbox"),
    re_path(rf"^{INVENTORY}:export$", export, name="privacy-inventory-export"),
    re_path(
        r"^workspaces/(?P<workspace>[^/]+)/sources/(?P<source>[^/]+)/privacy-controls$",
        controls,
        name="privacy-controls",
    ),
]
