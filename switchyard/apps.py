from django.apps import AppConfig


class SwitchyardConfig(AppConfig):
    name = "switchyard"
    verbose_name = "Switchyard"
