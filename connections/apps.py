from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"

    def ready(self) -> None:
        from connections import access_rules

        access_rules.register()
        # Read and check the catalog files now: a bad entry stops startup with a
        # CatalogError naming the file, the entry and the problem.
        from connections import catalog

        catalog.shipped()
