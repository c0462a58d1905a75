"""The API reference page (Swagger UI) under the site's Content-Security-Policy."""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """drf-spectacular's split view fetches Swagger UI's init script as a file of its
    own (``?script``) instead of inlining it; the template swaps the page's inline
    <style> for a static stylesheet. The policy (script-src and style-src 'self')
    then holds here as on every other page."""

    template_name = "switchyard/api_docs.html"
