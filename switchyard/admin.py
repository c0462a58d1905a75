from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(admin.AdminSite):
    """Django's admin, for superusers only: staff flags alone do not open it."""

    site_header = "Switchyard administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class SwitchyardAdminConfig(AdminConfig):
    default_site = "switchyard.admin.SuperuserAdminSite"
