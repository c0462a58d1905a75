from django.urls import re_path
from rest_framework.routers import SimpleRouter

from workspace.api.audit_views import AuditEventViewSet
from workspace.api.grant_views import GrantViewSet
from workspace.api.group_views import GroupMemberViewSet, GroupViewSet
from workspace.api.label_views import LabelViewSet
from workspace.api.member_views import InvitationViewSet, MemberViewSet
from workspace.api.personal_token_views import PersonalAccessTokenViewSet
from workspace.api.role_views import RoleViewSet
from workspace.api.token_views import AccessTokenViewSet
from workspace.api.views import WorkspaceViewSet

router = SimpleRouter(trailing_slash=False)
router.register("workspaces", WorkspaceViewSet, basename="workspace")
router.register("access-tokens", PersonalAccessTokenViewSet, basename="personal-access-token")
router.register(
    r"workspaces/(?P<workspace>[^/]+)/audit-events", AuditEventViewSet, basename="audit-event"
)
router.register(
    r"workspaces/(?P<workspace>[^/]+)/access-tokens", AccessTokenViewSet, basename="access-token"
)
router.register(r"workspaces/(?P<workspace>[^/]+)/labels", LabelViewSet, basename="label")
router.register(r"workspaces/(?P<workspace>[^/]+)/users", MemberViewSet, basename="user")
router.register(r"workspaces/(?P<workspace>[^/]+)/invites", InvitationViewSet, basename="invite")
router.register(r"workspaces/(?P<workspace>[^/]+)/groups", GroupViewSet, basename="group")
router.register(
    r"workspaces/(?P<workspace>[^/]+)/groups/(?P<group>[0-9]+)/users",
    GroupMemberViewSet,
    basename="group-user",
)
router.register(r"workspaces/(?P<workspace>[^/]+)/roles", RoleViewSet, basename="role")
router.register(r"workspaces/(?P<workspace>[^/]+)/grants", GrantViewSet, basename="grant")

# Config API custom method: POST .../users/{user}:unlock
# (the collection itself takes no POST: the method is allowed on this route alone)
unlock_user = MemberViewSet.as_view({"post": "unlock"}, http_method_names=["post", "options"])
urlpatterns = [
    *router.urls,
    re_path(
        r"^workspaces/(?P<workspace>[^/]+)/users/(?P<user>[0-9]+):unlock$",
        unlock_user,
        name="user-unlock",
    ),
]
