from django.urls import path

from privacy.views import controls, inbox, inventory, matchers, regulations

app_name = "privacy"

PREFIX = "workspaces/<slug:slug>/privacy/detection/"
urlpatterns = [
    path(PREFIX, matchers.matchers, name="matchers"),
    path(f"{PREFIX}test", matchers.run_test, name="matchers-test"),
    path(f"{PREFIX}matchers/<str:key_id>/", matchers.edit, name="matcher-edit"),
    path(f"{PREFIX}matchers/<str:key_id>/delete", matchers.delete, name="matcher-delete"),
    path("workspaces/<slug:slug>/privacy/inbox/", inbox.inbox, name="inbox"),
    path("workspaces/<slug:slug>/privacy/inbox/add", inbox.add, name="inbox-add"),
    path("workspaces/<slug:slug>/privacy/inbox/field", inbox.field, name="inbox-field"),
    path("workspaces/<slug:slug>/privacy/inventory/", inventory.inventory, name="inventory"),
    path(
        "workspaces/<slug:slug>/privacy/inventory/export.csv",
        inventory.export,
        name="inventory-export",
    ),
    path(
        "workspaces/<slug:slug>/privacy/inventory/<str:key_id>/",
        inventory.detail,
        name="inventory-field",
    ),
    path(
        "workspaces/<slug:slug>/privacy/inventory/<str:key_id>/remove",
        inventory.remove,
        name="inventory-remove",
    ),
    path("workspaces/<slug:slug>/privacy/controls/", controls.controls, name="controls"),
    path(
        "workspaces/<slug:slug>/privacy/controls/<slug:source_slug>/",
        controls.update,
        name="controls-update",
    ),
    path("workspaces/<slug:slug>/privacy/end-users/", regulations.regulations, name="regulations"),
    path(
        "workspaces/<slug:slug>/privacy/end-users/suppressed/",
        regulations.suppressed,
        name="suppressed-users",
    ),
    path(
        "workspaces/<slug:slug>/privacy/end-users/unsuppress",
        regulations.unsuppress,
        name="unsuppress",
    ),
]
