from django.urls import re_path
from rest_framework.routers import SimpleRouter

from connections.reverse_etl.api import alert_urls
from connections.reverse_etl.api.mapping_views import RetlMappingViewSet, RetlSyncViewSet
from connections.reverse_etl.api.schedule_views import schedule
from connections.reverse_etl.api.views import RetlModelViewSet, RetlSourceViewSet

router = SimpleRouter(trailing_slash=False)
RETL = r"workspaces/(?P<workspace>[^/]+)/reverse-etl"
MAPPING = r"(?P<retl_mapping>rmap_[a-z0-9]+)"
router.register(RETL + "/sources", RetlSourceViewSet, basename="reverse-etl-source")
router.register(RETL + "/models", RetlModelViewSet, basename="reverse-etl-model")
router.register(RETL + "/mappings", RetlMappingViewSet, basename="reverse-etl-mapping")
router.register(RETL + f"/mappings/{MAPPING}/syncs", RetlSyncViewSet, basename="reverse-etl-sync")

# Config API custom methods: POST .../sources/{source}:test, .../models/{model}:preview,
# .../mappings/{mapping}:duplicate, .../mappings/{mapping}/syncs:run and :reset,
# .../syncs/{sync}:cancel
POST = ["post", "options"]
test_connection = RetlSourceViewSet.as_view({"post": "test_connection"})
preview = RetlModelViewSet.as_view({"post": "preview"})
urlpatterns = [
    *router.urls,
    re_path(
        rf"^{RETL}/sources/(?P<retl_source>[a-z0-9-]+):test$",
        test_connection,
        name="reverse-etl-source-test",
    ),
    re_path(
        rf"^{RETL}/models/(?P<retl_model>[a-z0-9-]+):preview$",
        preview,
        name="reverse-etl-model-preview",
    ),
    re_path(
        rf"^{RETL}/mappings/{MAPPING}:duplicate$",
        RetlMappingViewSet.as_view({"post": "duplicate"}),
        name="reverse-etl-mapping-duplicate",
    ),
    re_path(
        rf"^{RETL}/mappings/{MAPPING}/syncs:run$",
        RetlSyncViewSet.as_view({"post": "run"}, http_method_names=POST),
        name="reverse-etl-sync-run",
    ),
    re_path(
        rf"^{RETL}/mappings/{MAPPING}/syncs:reset$",
        RetlSyncViewSet.as_view({"post": "reset"}, http_method_names=POST),
        name="reverse-etl-sync-reset",
    ),
    re_path(
        rf"^{RETL}/mappings/{MAPPING}/syncs/(?P<retl_sync>rsyn_[a-z0-9]+):cancel$",
        RetlSyncViewSet.as_view({"post": "cancel"}, http_method_names=POST),
        name="reverse-etl-sync-cancel",
    ),
    # One per mapping, Get and Update only (schedule_views).
    re_path(rf"^{RETL}/mappings/{MAPPING}/schedule$", schedule, name="reverse-etl-schedule"),
]
urlpatterns += alert_urls.urlpatterns  # alerts and consent
