from rest_framework.routers import SimpleRouter

from workspace.api.views import WorkspaceViewSet

router = SimpleRouter(trailing_slash=False)
router.register("workspaces", WorkspaceViewSet, basename="workspace")

urlpatterns = router.urls
