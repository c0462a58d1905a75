from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from privacy import access_rules

        access_rules.register()
        from privacy import masking as pii_masking
        from switchyard import masking

        masking.register(pii_masking.masker)
        from connections.dataplane import observers
        from privacy.services import detection

        observers.register(detection.observe_batch)
        from connections.dataplane import gates
        from privacy import gate

        gates.register(gate.apply, gate.LABELS)
        from switchyard.ui import nav

        nav.register(
            "Privacy",
            nav.NavEntry("Detection", "privacy:matchers", "privacy-detection", owners_only=True),
            nav.NavEntry("Inbox", "privacy:inbox", "privacy-inbox", owners_only=True),
            nav.NavEntry("Inventory", "privacy:inventory", "privacy-inventory", owners_only=True),
            nav.NavEntry("Controls", "privacy:controls", "privacy-controls", owners_only=True),
            nav.NavEntry(
                "End User Privacy", "privacy:regulations", "privacy-end-users", owners_only=True
            ),
        )
