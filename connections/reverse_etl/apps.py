from django.apps import AppConfig
from django.db.models.signals import post_save, pre_delete


class ReverseEtlConfig(AppConfig):
    name = "connections.reverse_etl"
    label = "reverse_etl"
    verbose_name = "Reverse ETL"

    def ready(self) -> None:
        from connections.reverse_etl import access_rules, receivers
        from connections.reverse_etl.models import RetlMapping, RetlModel

        access_rules.register()
        # Beat's rows of scheduled mappings follow their mapping and model (services.schedules).
        uid = "reverse_etl.schedules"
        post_save.connect(receivers.mapping_saved, sender=RetlMapping, dispatch_uid=f"{uid}.m")
        post_save.connect(receivers.model_saved, sender=RetlModel, dispatch_uid=f"{uid}.q")
        pre_delete.connect(receivers.mapping_deleted, sender=RetlMapping, dispatch_uid=f"{uid}.d")
