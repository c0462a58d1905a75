from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from switchyard.health import healthz

api_urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "openapi.json",
        SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer]),
        name="openapi",
    ),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="api-docs"),
    path("", include("workspace.api.urls")),
    path("", include("connections.api.urls")),
]

# The UI's error pages; under /v1beta/ the API middleware answers its envelope instead.
handler403 = "switchyard.ui.error_pages.permission_denied"
handler404 = "switchyard.ui.error_pages.page_not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Apps are included by module path: the kernel imports none of them.
    path("", include("workspace.auth_urls")),
    path("django-admin/", admin.site.urls),
    path("v1beta/", include(api_urlpatterns)),
    path("", include("connections.dataplane.tracking.urls")),
    path("", include("connections.urls")),
    path("", include("workspace.urls")),
]
