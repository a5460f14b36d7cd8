from django.apps import AppConfig


class ClearanceConfig(AppConfig):
    name = "clearance"
    verbose_name = "Clearance"

    def ready(self) -> None:
        from clearance import (
            checks,  # noqa: F401  (registers the kinds' start-up check)
            events,  # noqa: F401  (registers its events)
        )
        from clearance.ledger_rows import ClearanceRows
        from clearance.participation import ClearanceParticipant
        from ledger import keepers
        from registry import participants

        participants.register(ClearanceParticipant())
        keepers.register(ClearanceRows())
