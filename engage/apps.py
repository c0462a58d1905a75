from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "engage"
    verbose_name = "Engage"

    def ready(self) -> None:
        from engage import access_rules

        access_rules.register()
        from switchyard.ui import nav

        nav.register("Engage", nav.NavEntry("Spaces", "engage:spaces", "engage-spaces"))
        from connections.dataplane import erasure, observers
        from engage.services import erasure as engage_erasure
        from engage.services import feed

        observers.register(feed.observe_batch)
        erasure.register(engage_erasure.erase_users)
