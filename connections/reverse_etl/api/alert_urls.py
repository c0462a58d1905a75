"""Routes of Reverse ETL alerts and consent (included by ``api/urls.py``)."""

from typing import Any

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
GET_PATCH: dict[str, Any] = {"get": "retrieve", "patch": "partial_update"}
SINGLE = ["get", "patch", "options"]

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
        RetlAlertSettingsViewSet.as_view(GET_PATCH, http_method_names=SINGLE),
        name="reverse-etl-alert-settings",
    ),
    re_path(
        rf"^{RETL}/mappings/{MAPPING}/alert$",
        RetlMappingAlertViewSet.as_view(GET_PATCH, http_method_names=SINGLE),
        name="reverse-etl-mapping-alert",
    ),
    re_path(
        rf"^{RETL}/consent-categories$",
        RetlConsentCategoriesViewSet.as_view(GET_PATCH, http_method_names=SINGLE),
        name="reverse-etl-consent-categories",
    ),
    re_path(
        rf"^{RETL}/models/(?P<retl_model>[a-z0-9-]+)/consent$",
        RetlModelConsentViewSet.as_view(GET_PATCH, http_method_names=SINGLE),
        name="reverse-etl-model-consent",
    ),
]
