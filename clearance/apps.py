from django.apps import AppConfig


class ClearanceConfig(AppConfig):
    name = "clearance"
    verbose_name = "Clearance"

    def ready(self) -> None:
        from clearance.participation import ClearanceParticipant
        from registry import participants

        participants.register(ClearanceParticipant())
