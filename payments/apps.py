from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Fees and payments"

    def ready(self) -> None:
        from payments.participation import PaymentsParticipant
        from registry import participants

        participants.register(PaymentsParticipant())
        # The payment tasks (a worker registers them on import) and the deploy checks.
        from payments import (  # noqa: F401
            payment_checks,
            payment_tasks,
            receipt_events,
        )
