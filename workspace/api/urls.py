from rest_framework.routers import SimpleRouter

from workspace.api.audit_views import AuditEventViewSet
from workspace.api.token_views import AccessTokenViewSet
from workspace.api.views import WorkspaceViewSet

router = SimpleRouter(trailing_slash=False)
router.register("workspaces", WorkspaceViewSet, basename="workspace")
router.register(
    r"workspaces/(?P<workspace>[^/]+)/audit-events", AuditEventViewSet, basename="audit-event"
)
router.register(
    r"workspaces/(?P<workspace>[^/]+)/access-tokens", AccessTokenViewSet, basename="access-token"
)

urlpatterns = router.urls
