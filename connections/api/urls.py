from rest_framework.routers import SimpleRouter

from connections.api.views import SourceViewSet

router = SimpleRouter(trailing_slash=False)
router.register(r"workspaces/(?P<workspace>[^/]+)/sources", SourceViewSet, basename="source")

urlpatterns = router.urls
