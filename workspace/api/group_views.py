from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Count
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers

from switchyard import names
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument, NotFound
from workspace.api.member_serializers import (
    GroupCreateSerializer,
    GroupSerializer,
    MemberSerializer,
)
from workspace.models import Membership, UserGroup
from workspace.selectors import members_with_groups
from workspace.services import groups as service


@extend_schema_view(
    list=extend_schema(
        summary="List User Groups",
    ),
    retrieve=extend_schema(summary="Get User Group"),
    create=extend_schema(
        summary="Create User Group",
        request=inline_serializer("CreateGroup", {"group": GroupCreateSerializer()}),
    ),
    partial_update=extend_schema(summary="Update User Group"),
    destroy=extend_schema(
        summary="Delete User Group",
        description="Its members stay in the workspace; the group's grants go.",
        responses={200: inline_serializer("DeletedGroup", {})},
    ),
)
class GroupViewSet(WorkspaceResourceViewSet):
    resource_key = "group"
    collection_key = "groups"
    serializer_class = GroupSerializer
    create_serializer_class = GroupCreateSerializer
    lookup_field = "group"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[UserGroup]:
        return (
            UserGroup.objects.filter(workspace=self.workspace)
            .select_related("workspace")
            .annotate(member_count=Count("memberships"))
        )

    def lookup(self, queryset: models.QuerySet[UserGroup], key: str) -> UserGroup | None:
        return queryset.filter(pk=int(key)).first()

    def render(self, obj: UserGroup) -> dict[str, Any]:
        # Writes hand back a bare row; answer with the annotated one.
        return super().render(self.base_queryset().get(pk=obj.pk))

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> UserGroup:
        return service.do_create_group(
            principal=principal,
            workspace=self.workspace,
            name=data["display_name"],
            description=data.get("description", ""),
        )

    def update_resource(
        self, principal: Principal, obj: UserGroup, changes: dict[str, Any]
    ) -> UserGroup:
        return service.do_update_group(principal=principal, group=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: UserGroup) -> None:
        service.do_delete_group(principal=principal, group=obj)


class GroupMemberAddSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="workspaces/{workspace}/users/{id}")


@extend_schema_view(
    list=extend_schema(
        summary="List a User Group's users",
    ),
    create=extend_schema(
        summary="Add a user to a User Group",
        request=inline_serializer("AddGroupUser", {"user": GroupMemberAddSerializer()}),
        responses=MemberSerializer,
    ),
    destroy=extend_schema(
        summary="Remove a user from a User Group",
        responses={200: inline_serializer("RemovedGroupUser", {})},
    ),
)
class GroupMemberViewSet(WorkspaceResourceViewSet):
    resource_key = "user"
    collection_key = "users"
    serializer_class = MemberSerializer
    create_serializer_class = GroupMemberAddSerializer
    lookup_field = "user"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "delete", "head", "options"]
    required_workspace_action = "administer"

    @property
    def group(self) -> UserGroup:
        group = UserGroup.objects.filter(
            workspace=self.workspace, pk=int(self.kwargs["group"])
        ).first()
        if group is None:
            raise NotFound(f"group {self.kwargs['group']!r} not found")
        return group

    def base_queryset(self) -> models.QuerySet[Membership]:
        return members_with_groups(self.workspace).filter(user__group_memberships__group=self.group)

    def lookup(self, queryset: models.QuerySet[Membership], key: str) -> Membership | None:
        return queryset.filter(user_id=int(key)).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Membership:
        slug, user_id = names.parse(data["name"], "workspaces", "users", field="user.name")
        membership = (
            Membership.objects.filter(workspace=self.workspace, user_id=user_id)
            .select_related("user")
            .first()
            if slug == self.workspace.slug and user_id.isdigit()
            else None
        )
        if membership is None:
            raise InvalidArgument(f"{data['name']!r} is not a user of this workspace")
        service.do_add_group_member(principal=principal, group=self.group, user=membership.user)
        return self.base_queryset().get(pk=membership.pk)

    def delete_resource(self, principal: Principal, obj: Membership) -> None:
        service.do_remove_group_member(principal=principal, group=self.group, user=obj.user)
