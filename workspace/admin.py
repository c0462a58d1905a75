from django.contrib import admin

from workspace.models import AccessToken, AuditEntry, Membership, Workspace


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("slug", "display_name", "id", "create_time")
    search_fields = ("slug", "display_name", "id")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("workspace", "user", "role")
    list_filter = ("role",)


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "description", "user", "scope", "create_time", "last_used_time")
    exclude = ("secret_hash",)
    readonly_fields = ("prefix",)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("time", "action", "resource_name", "actor_user")
    list_filter = ("action",)
