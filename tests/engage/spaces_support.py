"""Worlds for the spaces tests: a workspace with an owner, its sources and spaces,
and members who join it by invitation and get space roles by grants."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.models import Source
from connections.services.sources import do_create_source
from engage.models import Space
from engage.services.spaces import do_create_space
from switchyard.access import Principal
from tests.resource_contract import client_for, join, make_account
from workspace.models import Label, Workspace
from workspace.services.grants import do_create_grant
from workspace.services.workspaces import do_create_workspace


@dataclass
class Acme:
    owner: User
    workspace: Workspace

    @property
    def principal(self) -> Principal:
        return Principal(self.owner)

    def label(self, text: str) -> Label:
        key, value = text.split(":")
        return Label.objects.get(workspace=self.workspace, key=key, value=value)

    def space(self, slug: str, **extra: object) -> Space:
        return do_create_space(
            principal=self.principal,
            workspace=self.workspace,
            slug=slug,
            display_name=slug.title(),
            **extra,
        )

    def source(self, slug: str, labels: list[str] | None = None) -> Source:
        return do_create_source(
            principal=self.principal,
            workspace=self.workspace,
            slug=slug,
            display_name=slug.title(),
            labels=labels or [],
        )

    def member(self, role: str | None = None, scope: str = "all", **grant: object) -> User:
        user = join(self).user  # type: ignore[arg-type]
        if role:
            do_create_grant(
                principal=self.principal,
                workspace=self.workspace,
                grantee=user,
                role=role,
                scope=scope,
                **grant,  # type: ignore[arg-type]
            )
        return user

    def client(self, user: User | None = None, *, read_only: bool = False) -> APIClient:
        client, _token, _secret = client_for(user or self.owner, read_only=read_only)
        return client


def make_acme(slug: str = "acme") -> Acme:
    owner = make_account(f"{slug}-owner-{Workspace.objects.count()}")
    workspace = do_create_workspace(
        principal=Principal(owner), slug=slug, display_name=slug.title()
    )
    return Acme(owner, workspace)
