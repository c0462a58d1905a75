"""Routes of Reverse ETL alerts and consent (included by ``api/urls.py``)."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from connections.reverse_etl.api.alert_views import (
    RetlAlertSettingsViewSet,
    RetlAlertViewSet,
    RetlConsentCategoriesViewSet,
    RetlMappingAlertViewSet,
    RetlModelConsentViewSet,
)

RETL = r"workspaces/(?P<workspace>[^/]+)/reverse-etl"
MAPPING = r"(?P<retl_mapping>rmap_[a-z0-9]+)"

router = SimpleRouter(trailing_slash=False)
router.register(RETL + "/alerts", RetlAlertViewSet, basename="reverse-etl-alert")

urlpatterns = [
    re_path(
        rf"^{RETL}/alerts:markRead$",
        RetlAlertViewSet.as_view({"post": "mark_read"}, http_method_names=["post", "options"]),
        name="reverse-etl-alerts-mark-read",
    ),
    *router.urls,
    re_path(
        rf"^{RETL}/alert-settings$",
        RetlAlertSettingsViewSet.singleton_view(),
        name="reverse-etl-alert-settings",
    ),
    re_path(
        rf"^{RETL}/mappings/{MAPPING}/alert$",
        RetlMappingAlertViewSet.singleton_view(),
        name="reverse-etl-mapping-alert",
    ),
    re_path(
        rf"^{RETL}/consent-categories$",
        RetlConsentCategoriesViewSet.singleton_view(),
        name="reverse-etl-consent-categories",
    ),
    re_path(
        rf"^{RETL}/models/(?P<retl_model>[a-z0-9-]+)/consent$",
        RetlModelConsentViewSet.singleton_view(),
        name="reverse-etl-model-consent",
    ),
]
