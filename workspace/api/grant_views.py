from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from switchyard import names
from switchyard.access import Principal, registry
from switchyard.access.roles import BY_SLUG
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument
from workspace.models import AccessToken, Label, Membership, RoleGrant, UserGroup
from workspace.services import grants as service


class NamesField(serializers.ListField):
    """A list of names read from the grant (labels, listed resources) and written as
    names, which the view resolves."""

    def __init__(self, read: Any, **kwargs: Any) -> None:
        self._read = read
        super().__init__(child=serializers.CharField(), **kwargs)

    def get_attribute(self, instance: RoleGrant) -> list[str]:
        return self._read(instance)

    def to_representation(self, data: list[str]) -> list[str]:
        return data


class GrantSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="workspaces/{workspace}/grants/{id}")
    id = serializers.CharField(source="pk", read_only=True)
    principal = serializers.SerializerMethodField(
        help_text="the user, group or access token holding the role"
    )
    role = serializers.CharField(help_text="a role id from the roles catalogue")
    labels = NamesField(
        lambda grant: sorted(str(label) for label in grant.labels.all()),
        help_text="the label selector (scope labels): key:value",
    )
    resources = NamesField(
        lambda grant: sorted(r.resource_name for r in service.listed_resources(grant)),
        help_text="the listed resources (scope specific), by name",
    )

    class Meta:
        model = RoleGrant
        fields = ("name", "id", "principal", "role", "scope", "labels", "resources", "create_time")
        read_only_fields = ("name", "id", "principal", "scope", "create_time")

    def get_name(self, grant: RoleGrant) -> str:
        return service.grant_name(grant)

    def get_principal(self, grant: RoleGrant) -> str:
        return principal_name(grant)


def principal_name(grant: RoleGrant) -> str:
    base = ("workspaces", grant.workspace.slug)
    if grant.user_id:
        return names.build(base, ("users", str(grant.user_id)))
    if grant.group_id:
        return names.build(base, ("groups", str(grant.group_id)))
    return names.build(base, ("access-tokens", str(grant.token_id)))


class GrantCreateSerializer(serializers.Serializer):
    principal = serializers.CharField(
        help_text="workspaces/{w}/users/{id}, workspaces/{w}/groups/{id} or "
        "workspaces/{w}/access-tokens/{id}"
    )
    role = serializers.CharField(help_text="a role id from the roles catalogue")
    scope = serializers.ChoiceField(choices=["all", "specific", "labels"])
    labels = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    resources = serializers.ListField(child=serializers.CharField(), required=False, default=list)


@extend_schema_view(
    list=extend_schema(
        summary="List Role Grants",
        parameters=[
            OpenApiParameter("principal", str, description="only this principal's grants"),
        ],
    ),
    retrieve=extend_schema(summary="Get Role Grant"),
    partial_update=extend_schema(summary="Update Role Grant"),
    create=extend_schema(
        summary="Grant a role",
        request=inline_serializer("CreateGrant", {"grant": GrantCreateSerializer()}),
    ),
    destroy=extend_schema(
        summary="Revoke a Role Grant", responses={200: inline_serializer("RevokedGrant", {})}
    ),
)
class GrantViewSet(WorkspaceResourceViewSet):
    resource_key = "grant"
    collection_key = "grants"
    serializer_class = GrantSerializer
    create_serializer_class = GrantCreateSerializer
    lookup_field = "grant"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[RoleGrant]:
        grants = (
            RoleGrant.objects.filter(workspace=self.workspace)
            .select_related("workspace")
            .prefetch_related("labels", *service.prefetch_listed())
        )
        if who := self.request.query_params.get("principal"):
            grants = grants.filter(**self._principal_filter(who))
        return grants

    def _principal_filter(self, name: str) -> dict[str, Any]:
        slug, kind, key = _split_principal(name)
        if slug != self.workspace.slug or not key.isdigit():
            raise InvalidArgument(f"invalid principal {name!r}", field="principal")
        return {
            {"users": "user_id", "groups": "group_id", "access-tokens": "token_id"}[kind]: int(key)
        }

    def lookup(self, queryset: models.QuerySet[RoleGrant], key: str) -> RoleGrant | None:
        return queryset.filter(pk=int(key)).first()

    def render(self, obj: RoleGrant) -> dict[str, Any]:
        return super().render(self.base_queryset().get(pk=obj.pk))

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> RoleGrant:
        return service.do_create_grant(
            principal=principal,
            workspace=self.workspace,
            grantee=self._grantee(data["principal"]),
            role=data["role"],
            scope=data["scope"],
            labels=self._labels(data["labels"]),
            resources=self._resources(data["role"], data["resources"]),
        )

    def _grantee(self, name: str) -> Any:
        where = self._principal_filter(name)
        if "user_id" in where:
            found: Any = Membership.objects.filter(
                workspace=self.workspace, user_id=where["user_id"]
            ).first()
            found = found.user if found else None
        elif "group_id" in where:
            found = UserGroup.objects.filter(workspace=self.workspace, pk=where["group_id"]).first()
        else:
            found = AccessToken.objects.filter(
                workspace=self.workspace, pk=where["token_id"], revoke_time__isnull=True
            ).first()
        if found is None:
            raise InvalidArgument(f"no principal {name!r} in this workspace", field="principal")
        return found

    def _labels(self, texts: list[str]) -> list[Label]:
        wanted = {tuple(t.split(":", 1)) for t in texts if ":" in t}
        found = [
            label
            for label in Label.objects.filter(workspace=self.workspace)
            if (label.key, label.value) in wanted
        ]
        if len(found) != len(set(texts)):
            known = {str(label) for label in found}
            raise InvalidArgument(f"unknown label(s) {sorted(set(texts) - known)}", field="labels")
        return found

    def _resources(self, role: str, resource_names: list[str]) -> list[models.Model]:
        """Resources of the role's type, by name (``workspaces/{w}/sources/{s}``)."""
        spec = BY_SLUG.get(role)
        kind = registry.resource_type(spec.resource_type) if spec else None
        if spec is None or not resource_names:
            return []  # the service names what is wrong with the role
        if kind is None:
            raise InvalidArgument(f"{spec.name} takes no specific resources", field="resources")
        slugs = set()
        for name in resource_names:
            workspace_slug, slug = names.parse(
                name, "workspaces", kind.collection, field="resources"
            )
            if workspace_slug != self.workspace.slug:
                raise InvalidArgument(f"{name!r} is not in this workspace", field="resources")
            slugs.add(slug)
        found = list(kind.find(self.workspace.pk, slugs))
        missing = slugs - {r.slug for r in found}
        if missing:
            raise InvalidArgument(f"unknown {kind.collection} {sorted(missing)}", field="resources")
        return found

    def update_resource(
        self, principal: Principal, obj: RoleGrant, changes: dict[str, Any]
    ) -> RoleGrant:
        if "labels" in changes:
            changes["labels"] = self._labels(changes["labels"])
        if "resources" in changes:
            role = changes.get("role", obj.role)
            changes["resources"] = self._resources(role, changes["resources"])
        return service.do_update_grant(principal=principal, grant=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: RoleGrant) -> None:
        service.do_delete_grant(principal=principal, grant=obj)


_PRINCIPAL_FIELDS = {"users": "user_id", "groups": "group_id", "access-tokens": "token_id"}


def _split_principal(name: str) -> tuple[str, str, str]:
    parts = name.split("/")
    if (
        len(parts) != 4
        or parts[0] != "workspaces"
        or parts[2]
        not in (
            "users",
            "groups",
            "access-tokens",
        )
    ):
        raise InvalidArgument(
            f"invalid principal {name!r}: "
            "expected workspaces/{w}/users|groups|access-tokens/{id}",
            field="principal",
        )
    return parts[1], parts[2], parts[3]
