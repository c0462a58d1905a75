from __future__ import annotations

from rest_framework import serializers

from workspace.models import Invitation, Membership, UserGroup
from workspace.services import groups as groups_service
from workspace.services import members as service


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="workspaces/{workspace}/users/{id}")
    id = serializers.CharField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    groups = serializers.SerializerMethodField()
    join_time = serializers.DateTimeField(source="create_time", read_only=True)

    class Meta:
        model = Membership
        fields: tuple[str, ...] = ("name", "id", "username", "email", "role", "groups", "join_time")

    def get_name(self, membership: Membership) -> str:
        return service.member_name(membership)

    def get_groups(self, membership: Membership) -> list[str]:
        # The view prefetches the user's groups in this workspace as workspace_groups.
        return sorted(g.name for g in getattr(membership.user, "workspace_groups", []))


class WorkspaceMemberSerializer(MemberSerializer):
    """A member as the workspace's Users collection shows it: with whether their
    sign-ins are locked out (``:unlock`` clears it)."""

    locked_out = serializers.SerializerMethodField(
        help_text="too many failed sign-ins: refused until the cool-off ends or :unlock"
    )

    class Meta(MemberSerializer.Meta):
        fields = (*MemberSerializer.Meta.fields, "locked_out")

    def get_locked_out(self, membership: Membership) -> bool:
        # The view puts the workspace's locked-out usernames in the context, found at once.
        return membership.user.username in self.context.get("locked_out_usernames", ())


class InvitationSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="workspaces/{workspace}/invites/{id}")
    id = serializers.CharField(source="pk", read_only=True)
    group = serializers.CharField(
        source="group.name", read_only=True, default=None, allow_null=True
    )
    invited_by = serializers.CharField(
        source="invited_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Invitation
        fields: tuple[str, ...] = (
            "name",
            "id",
            "email",
            "role",
            "group",
            "invited_by",
            "create_time",
            "expire_time",
        )
        read_only_fields = fields

    def get_name(self, invitation: Invitation) -> str:
        return service.invitation_name(invitation)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    group = serializers.CharField(required=False, help_text="a user group's name to join")


class CreatedInvitationSerializer(InvitationSerializer):
    invite_url = serializers.CharField(read_only=True, help_text="Shown only this once.")

    class Meta(InvitationSerializer.Meta):
        fields = (*InvitationSerializer.Meta.fields, "invite_url")


class GroupSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="workspaces/{workspace}/groups/{id}")
    id = serializers.CharField(source="pk", read_only=True)
    display_name = serializers.CharField(source="name", max_length=100, allow_blank=True)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = UserGroup
        fields = ("name", "id", "display_name", "description", "member_count", "create_time")
        read_only_fields = ("create_time",)

    def get_name(self, group: UserGroup) -> str:
        return groups_service.group_name(group)


class GroupCreateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=500, required=False, default="")


class GroupMemberSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True, help_text="workspaces/{workspace}/users/{id}")
    id = serializers.CharField(read_only=True)
    username = serializers.CharField(read_only=True)
