from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = "Workspaces and access"

    def ready(self) -> None:
        from workspace import access_rules

        access_rules.register()
