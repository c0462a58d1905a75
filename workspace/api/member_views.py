from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response

from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument
from workspace.api.member_serializers import (
    CreatedInvitationSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    WorkspaceMemberSerializer,
)
from workspace.models import Invitation, Membership, UserGroup
from workspace.selectors import members_with_groups
from workspace.services import logins as login_service
from workspace.services import members as service


@extend_schema_view(
    list=extend_schema(
        summary="List Users (team members)",
    ),
    retrieve=extend_schema(summary="Get User"),
    partial_update=extend_schema(summary="Update User (role)"),
    destroy=extend_schema(
        summary="Remove User from the workspace",
        description="The account stays; only its membership (and group memberships) go.",
        responses={200: inline_serializer("Removed", {})},
    ),
)
class MemberViewSet(WorkspaceResourceViewSet):
    resource_key = "user"
    collection_key = "users"
    serializer_class = WorkspaceMemberSerializer
    lookup_field = "user"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "delete", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[Membership]:
        return members_with_groups(self.workspace)

    def lookup(self, queryset: models.QuerySet[Membership], key: str) -> Membership | None:
        return queryset.filter(user_id=int(key)).first()

    def update_resource(
        self, principal: Principal, obj: Membership, changes: dict[str, Any]
    ) -> Membership:
        return service.do_change_member_role(principal=principal, membership=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: Membership) -> None:
        service.do_remove_member(principal=principal, membership=obj)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):  # (the schema has no workspace)
            usernames = Membership.objects.filter(workspace=self.workspace).values_list(
                "user__username", flat=True
            )
            context["locked_out_usernames"] = login_service.locked_out_usernames(usernames)
        return context

    @extend_schema(
        summary="Unlock User",
        description="POST .../users/{user}:unlock. Clears the member's failed sign-ins "
        "(from every address), so a member locked out by too many of them can sign in "
        "at once. Workspace Owners; audited as user.unlocked when there was something "
        "to clear. An address locked by other usernames' failures stays locked until its "
        "cool-off ends.",
        request=None,
        responses=WorkspaceMemberSerializer,
    )
    def unlock(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        login_service.do_unlock_member(principal=self.principal, membership=self.get_object())
        return Response(self.render(self.get_object()))


@extend_schema_view(
    list=extend_schema(
        summary="List open Invites",
    ),
    retrieve=extend_schema(summary="Get Invite"),
    create=extend_schema(
        summary="Invite a team member",
        description="Emails the invite link; the answer carries it in `invite_url`, once.",
        request=inline_serializer("CreateInvite", {"invite": InvitationCreateSerializer()}),
        responses=CreatedInvitationSerializer,
    ),
    destroy=extend_schema(
        summary="Revoke Invite", responses={200: inline_serializer("RevokedInvite", {})}
    ),
)
class InvitationViewSet(WorkspaceResourceViewSet):
    resource_key = "invite"
    collection_key = "invites"
    serializer_class = InvitationSerializer
    create_serializer_class = InvitationCreateSerializer
    lookup_field = "invite"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "delete", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[Invitation]:
        return Invitation.objects.filter(
            workspace=self.workspace, accept_time__isnull=True, revoke_time__isnull=True
        ).select_related("workspace", "group", "invited_by")

    def lookup(self, queryset: models.QuerySet[Invitation], key: str) -> Invitation | None:
        return queryset.filter(pk=int(key)).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Invitation:
        group = None
        if data.get("group"):
            group = UserGroup.objects.filter(workspace=self.workspace, name=data["group"]).first()
            if group is None:
                raise InvalidArgument(f"no user group {data['group']!r}", field="group")
        invitation, secret = service.do_invite_member(
            principal=principal,
            workspace=self.workspace,
            email=data["email"],
            role=data["role"],
            group=group,
        )
        invitation.invite_url = service.invite_url(secret)  # type: ignore[attr-defined]
        return invitation

    def render_created(self, obj: Invitation) -> dict[str, Any]:
        return {**self.render(obj), "invite_url": obj.invite_url}  # type: ignore[attr-defined]

    def delete_resource(self, principal: Principal, obj: Invitation) -> None:
        service.do_revoke_invitation(principal=principal, invitation=obj)
