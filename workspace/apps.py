from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = "Workspaces and access"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from workspace import access_rules, receivers

        access_rules.register()
        user_locked_out.connect(receivers.audit_lockout, dispatch_uid="workspace.audit_lockout")
        user_logged_in.connect(
            receivers.clear_failures_on_sign_in, dispatch_uid="workspace.clear_failures"
        )
