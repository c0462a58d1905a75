from django.urls import path

from workspace.views import access_management as am
from workspace.views import account, audit, invitations, labels, workspaces

app_name = "workspace"

urlpatterns = [
    path("", workspaces.index, name="index"),
    path("workspaces/", workspaces.workspace_list, name="list"),
    path("account/", account.account, name="account"),
    path("account/tokens/<int:token_id>/revoke", account.token_revoke, name="account-token-revoke"),
    path("invites/<str:secret>", invitations.accept, name="invitation"),
    path("workspaces/new", workspaces.create, name="create"),
    path("workspaces/<slug:slug>/", workspaces.home, name="home"),
    path("workspaces/<slug:slug>/settings/", workspaces.settings_general, name="settings"),
    path("workspaces/<slug:slug>/delete", workspaces.delete, name="delete"),
    path("workspaces/<slug:slug>/settings/audit-trail/", audit.audit_trail, name="audit"),
    path("workspaces/<slug:slug>/settings/access/", am.users, name="access-users"),
    path("workspaces/<slug:slug>/settings/access/users.csv", am.users_csv, name="access-users-csv"),
    path(
        "workspaces/<slug:slug>/settings/access/users/<int:user_id>/role",
        am.change_role,
        name="access-role",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/users/<int:user_id>/remove",
        am.remove_member,
        name="access-remove",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/users/<int:user_id>/unlock",
        am.unlock_member,
        name="access-unlock",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/invites/<int:invite_id>/revoke",
        am.revoke_invite,
        name="access-revoke-invite",
    ),
    path("workspaces/<slug:slug>/settings/access/groups/", am.groups, name="access-groups"),
    path(
        "workspaces/<slug:slug>/settings/access/users/<int:user_id>/",
        am.member_detail,
        name="access-user",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/users/<int:user_id>/grants",
        am.user_grant,
        name="access-user-grants",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/groups/<int:group_id>/grants",
        am.group_grant,
        name="access-group-grants",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/grants/<int:grant_id>/delete",
        am.grant_delete,
        name="access-grant-delete",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/groups/<int:group_id>/",
        am.group_detail,
        name="access-group",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/groups/<int:group_id>/delete",
        am.group_delete,
        name="access-group-delete",
    ),
    path(
        "workspaces/<slug:slug>/settings/access/groups/<int:group_id>/members/<int:user_id>/remove",
        am.group_remove_member,
        name="access-group-remove",
    ),
    path("workspaces/<slug:slug>/settings/access/tokens/", am.tokens, name="access-tokens"),
    path(
        "workspaces/<slug:slug>/settings/access/tokens/<int:token_id>/revoke",
        am.token_revoke,
        name="access-token-revoke",
    ),
    path(
        "workspaces/<slug:slug>/settings/audit-trail.csv", audit.audit_trail_csv, name="audit-csv"
    ),
    path("workspaces/<slug:slug>/settings/labels/", labels.labels, name="labels"),
    path(
        "workspaces/<slug:slug>/settings/labels/<str:key>:<str:value>/delete",
        labels.delete,
        name="label-delete",
    ),
]
