from django.apps import AppConfig


class ReverseEtlConfig(AppConfig):
    name = "connections.reverse_etl"
    label = "reverse_etl"
    verbose_name = "Reverse ETL"

    def ready(self) -> None:
        from connections.reverse_etl import access_rules

        access_rules.register()
