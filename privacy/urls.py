from django.urls import path

from privacy.views import controls, matchers

app_name = "privacy"

PREFIX = "workspaces/<slug:slug>/privacy/detection/"
urlpatterns = [
    path(PREFIX, matchers.matchers, name="matchers"),
    path(f"{PREFIX}test", matchers.run_test, name="matchers-test"),
    path(f"{PREFIX}matchers/<str:key_id>/", matchers.edit, name="matcher-edit"),
    path(f"{PREFIX}matchers/<str:key_id>/delete", matchers.delete, name="matcher-delete"),
    path("workspaces/<slug:slug>/privacy/controls/", controls.controls, name="controls"),
    path(
        "workspaces/<slug:slug>/privacy/controls/<slug:source_slug>/",
        controls.update,
        name="controls-update",
    ),
]
