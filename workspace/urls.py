from django.urls import path

from workspace.views import audit, workspaces

app_name = "workspace"

urlpatterns = [
    path("", workspaces.index, name="index"),
    path("workspaces/", workspaces.workspace_list, name="list"),
    path("workspaces/new", workspaces.create, name="create"),
    path("workspaces/<slug:slug>/", workspaces.home, name="home"),
    path("workspaces/<slug:slug>/settings/", workspaces.settings_general, name="settings"),
    path("workspaces/<slug:slug>/delete", workspaces.delete, name="delete"),
    path("workspaces/<slug:slug>/settings/audit-trail/", audit.audit_trail, name="audit"),
    path(
        "workspaces/<slug:slug>/settings/audit-trail.csv", audit.audit_trail_csv, name="audit-csv"
    ),
]
