from django.urls import re_path
from rest_framework.routers import SimpleRouter

from connections.reverse_etl.api.views import RetlModelViewSet, RetlSourceViewSet

router = SimpleRouter(trailing_slash=False)
RETL = r"workspaces/(?P<workspace>[^/]+)/reverse-etl"
router.register(RETL + "/sources", RetlSourceViewSet, basename="reverse-etl-source")
router.register(RETL + "/models", RetlModelViewSet, basename="reverse-etl-model")

# Config API custom methods: POST .../sources/{source}:test, .../models/{model}:preview
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
]
