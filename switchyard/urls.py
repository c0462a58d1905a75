from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView

from switchyard.api.docs import ApiDocsView
from switchyard.health import healthz


def mounted(module: str) -> list[URLPattern | URLResolver]:
    """Every app's URLconf called ``module``, for the apps that have one. Apps are
    included by module path: the kernel imports none of them."""
    found = [f"{app}.{module}" for app in settings.SWITCHYARD_APPS]
    return [path("", include(name)) for name in found if find_spec(name) is not None]


api_urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "openapi.json",
        SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer]),
        name="openapi",
    ),
    path("docs", ApiDocsView.as_view(url_name="openapi"), name="api-docs"),
    *mounted("api.urls"),
]

# The UI's error pages; under /v1beta/ the API middleware answers its envelope instead.
handler403 = "switchyard.ui.error_pages.permission_denied"
handler404 = "switchyard.ui.error_pages.page_not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("django-admin/", admin.site.urls),
    path("v1beta/", include(api_urlpatterns)),
    *mounted("public_urls"),
    *mounted("urls"),
]
